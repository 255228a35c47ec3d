/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON tokenizer (RFC 8259, strict) for the freestanding code: kernel
 * profiles (hv/vmi/profile.c) and anything else that reads JSON from outsiders.
 *
 * It never allocates and never recurses: nesting is tracked in a fixed stack of
 * JSON_MAX_DEPTH containers, and every call consumes input, so a document of n bytes is
 * tokenized in O(n) steps whatever it holds. Each token points into the caller's text
 * (strings and keys undecoded, between their quotes); json_string_decode() and
 * json_number_u64() interpret them when the caller cares. A malformed document stops at
 * the first error with a message and the byte offset where it was found.
 *
 * Strict means: one value, nothing but whitespace around it; no comments, no trailing
 * commas, no single quotes, no leading zeros, no NaN/Infinity; strings are valid UTF-8
 * without raw control characters, and their escapes are the eight of RFC 8259 §7.
 */
#ifndef HV_LIB_JSON_H
#define HV_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64u

enum json_token_type {
	JSON_ERROR = 0,
	JSON_END,          /* the document is complete and nothing but whitespace follows */
	JSON_OBJECT_BEGIN, /* '{' */
	JSON_OBJECT_END,   /* '}' */
	JSON_ARRAY_BEGIN,  /* '[' */
	JSON_ARRAY_END,    /* ']' */
	JSON_KEY,          /* an object member's name; its ':' has been consumed */
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_token {
	enum json_token_type type;
	size_t start;   /* byte offset of the token; for JSON_KEY/JSON_STRING, of its first
			   character after the opening quote */
	size_t len;     /* bytes; for JSON_KEY/JSON_STRING, up to the closing quote */
	uint32_t depth; /* containers open after this token (so a '{' at top level has 1,
			   and its '}' has 0; a key or value inside it has 1) */
};

struct json_lexer {
	const char *text;
	size_t len;
	size_t pos;
	uint32_t depth;
	uint8_t expect;                 /* what may come next (private) */
	char container[JSON_MAX_DEPTH]; /* '{' or '[' for each open container */
	const char *error;              /* why it stopped, when json_next() returned JSON_ERROR */
	size_t error_at;                /* byte offset of the error */
};

void json_lexer_init(struct json_lexer *lx, const char *text, size_t len);

/* The next token. After JSON_END or JSON_ERROR, returns the same again. */
enum json_token_type json_next(struct json_lexer *lx, struct json_token *tok);

/*
 * Decodes the raw string or key `raw` (raw_len bytes, as a token gives it, already
 * validated by the lexer) into out[0..cap-1] with a terminating NUL (cap > 0). Returns the
 * decoded length, which is >= cap when the text was truncated. \uXXXX escapes become UTF-8
 * (a surrogate pair becomes one 4-byte sequence).
 */
size_t json_string_decode(const char *raw, size_t raw_len, char *out, size_t cap);

/* Whether the raw string or key `raw` decodes to exactly the NUL-terminated `s`. */
bool json_string_equals(const char *raw, size_t raw_len, const char *s);

/* The number token `raw` as an unsigned 64-bit integer: 0, or -1 when it has a sign, a
 * fraction or an exponent, or does not fit. */
int json_number_u64(const char *raw, size_t raw_len, uint64_t *out);

#endif
