/* SPDX-License-Identifier: MIT */
/* A strict, streaming, allocation-free JSON tokenizer (RFC 8259). See json.h. */
#include "lib/json.h"

#include "lib/ctype.h"

enum expect {
	EXPECT_VALUE,              /* at the start, after ':' and after ',' in an array */
	EXPECT_VALUE_OR_ARRAY_END, /* right after '[' */
	EXPECT_KEY,                /* after ',' in an object */
	EXPECT_KEY_OR_OBJECT_END,  /* right after '{' */
	EXPECT_COMMA_OR_END,       /* after a value inside a container */
	EXPECT_DONE,               /* after the top-level value: only whitespace */
	EXPECT_FAILED,
};

void json_lexer_init(struct json_lexer *lx, const char *text, size_t len)
{
	lx->text = text;
	lx->len = len;
	lx->pos = 0;
	lx->depth = 0;
	lx->expect = EXPECT_VALUE;
	lx->error = NULL;
	lx->error_at = 0;
}

static enum json_token_type fail(struct json_lexer *lx, size_t at, const char *why)
{
	lx->expect = EXPECT_FAILED;
	lx->error = why;
	lx->error_at = at;
	return JSON_ERROR;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes of the UTF-8 sequence starting at s[0] (n bytes available), or 0 when it is not
 * well-formed (RFC 3629 §4: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* Scans the string whose opening quote is at lx->pos; on success the token spans its
 * contents and lx->pos is past the closing quote. */
static bool scan_string(struct json_lexer *lx, struct json_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->text;
	size_t open = lx->pos;
	size_t i = open + 1;

	/* bounded by the input: every step consumes at least one byte */
	while (i < lx->len) {
		unsigned char c = s[i];
		if (c == '"') {
			tok->start = open + 1;
			tok->len = i - (open + 1);
			lx->pos = i + 1;
			return true;
		}
		if (c == '\\') {
			if (i + 1 >= lx->len)
				break;
			switch (s[i + 1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				i += 2;
				continue;
			case 'u':
				if (i + 6 > lx->len)
					break;
				for (size_t k = 2; k < 6; k++)
					if (hex_digit_value((char)s[i + k]) < 0) {
						fail(lx, i, "bad \\u escape in string");
						return false;
					}
				i += 6;
				continue;
			default:
				fail(lx, i, "bad escape in string");
				return false;
			}
			break; /* a \u escape cut short by the end of input */
		}
		if (c < 0x20) {
			fail(lx, i, "control character in string");
			return false;
		}
		size_t n = utf8_sequence(s + i, lx->len - i);
		if (n == 0) {
			fail(lx, i, "invalid UTF-8 in string");
			return false;
		}
		i += n;
	}
	fail(lx, open, "unterminated string");
	return false;
}

/* Scans the number starting at lx->pos (RFC 8259 §6). */
static bool scan_number(struct json_lexer *lx, struct json_token *tok)
{
	const char *s = lx->text;
	size_t i = lx->pos;
	size_t n = lx->len;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i])) {
		fail(lx, i, "digit expected in number");
		return false;
	}
	if (s[i] == '0') {
		i++;
		if (i < n && is_digit(s[i])) {
			fail(lx, i, "leading zero in number");
			return false;
		}
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i])) {
			fail(lx, i, "digit expected after '.' in number");
			return false;
		}
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i])) {
			fail(lx, i, "digit expected in exponent");
			return false;
		}
		while (i < n && is_digit(s[i]))
			i++;
	}
	tok->start = lx->pos;
	tok->len = i - lx->pos;
	lx->pos = i;
	return true;
}

static bool scan_literal(struct json_lexer *lx, const char *word, size_t wlen)
{
	if (lx->len - lx->pos < wlen) {
		fail(lx, lx->pos, "invalid literal");
		return false;
	}
	for (size_t k = 0; k < wlen; k++)
		if (lx->text[lx->pos + k] != word[k]) {
			fail(lx, lx->pos, "invalid literal");
			return false;
		}
	lx->pos += wlen;
	return true;
}

static void after_value(struct json_lexer *lx)
{
	lx->expect = lx->depth == 0 ? EXPECT_DONE : EXPECT_COMMA_OR_END;
}

/* A value starts at lx->pos (the lexer expects one). */
static enum json_token_type value(struct json_lexer *lx, struct json_token *tok)
{
	char c = lx->text[lx->pos];

	tok->start = lx->pos;
	tok->len = 1;
	switch (c) {
	case '{':
	case '[':
		if (lx->depth >= JSON_MAX_DEPTH)
			return fail(lx, lx->pos, "nesting deeper than JSON_MAX_DEPTH (64)");
		lx->container[lx->depth++] = c;
		lx->pos++;
		lx->expect = c == '{' ? EXPECT_KEY_OR_OBJECT_END : EXPECT_VALUE_OR_ARRAY_END;
		tok->depth = lx->depth;
		return c == '{' ? JSON_OBJECT_BEGIN : JSON_ARRAY_BEGIN;
	case '"':
		if (!scan_string(lx, tok))
			return JSON_ERROR;
		after_value(lx);
		tok->depth = lx->depth;
		return JSON_STRING;
	case 't':
	case 'f':
	case 'n': {
		const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
		size_t wlen = c == 'f' ? 5 : 4;
		if (!scan_literal(lx, word, wlen))
			return JSON_ERROR;
		tok->len = wlen;
		after_value(lx);
		tok->depth = lx->depth;
		return c == 't' ? JSON_TRUE : c == 'f' ? JSON_FALSE : JSON_NULL;
	}
	default:
		if (c == '-' || is_digit(c)) {
			if (!scan_number(lx, tok))
				return JSON_ERROR;
			after_value(lx);
			tok->depth = lx->depth;
			return JSON_NUMBER;
		}
		return fail(lx, lx->pos, "expected a value");
	}
}

static enum json_token_type close_container(struct json_lexer *lx, struct json_token *tok,
					    char closing)
{
	char open = closing == '}' ? '{' : '[';

	if (lx->depth == 0 || lx->container[lx->depth - 1] != open)
		return fail(lx, lx->pos, closing == '}' ? "unexpected '}'" : "unexpected ']'");
	lx->depth--;
	tok->start = lx->pos;
	tok->len = 1;
	tok->depth = lx->depth;
	lx->pos++;
	after_value(lx);
	return closing == '}' ? JSON_OBJECT_END : JSON_ARRAY_END;
}

static enum json_token_type key(struct json_lexer *lx, struct json_token *tok)
{
	if (lx->text[lx->pos] != '"')
		return fail(lx, lx->pos, "expected a string key");
	if (!scan_string(lx, tok))
		return JSON_ERROR;
	while (lx->pos < lx->len && is_space(lx->text[lx->pos]))
		lx->pos++;
	if (lx->pos >= lx->len)
		return fail(lx, lx->pos, "unexpected end of input");
	if (lx->text[lx->pos] != ':')
		return fail(lx, lx->pos, "expected ':' after key");
	lx->pos++;
	lx->expect = EXPECT_VALUE;
	tok->depth = lx->depth;
	return JSON_KEY;
}

enum json_token_type json_next(struct json_lexer *lx, struct json_token *tok)
{
	tok->type = JSON_ERROR;
	tok->start = lx->pos;
	tok->len = 0;
	tok->depth = lx->depth;
	if (lx->expect == EXPECT_FAILED)
		return JSON_ERROR;

	/* Bounded by the input: every turn consumes at least one byte (whitespace or a
	 * comma) or returns. */
	for (;;) {
		while (lx->pos < lx->len && is_space(lx->text[lx->pos]))
			lx->pos++;
		if (lx->pos >= lx->len) {
			if (lx->expect == EXPECT_DONE) {
				tok->type = JSON_END;
				tok->start = lx->pos;
				return JSON_END;
			}
			return fail(lx, lx->pos, "unexpected end of input");
		}
		char c = lx->text[lx->pos];
		enum json_token_type t;

		switch (lx->expect) {
		case EXPECT_VALUE:
			t = value(lx, tok);
			break;
		case EXPECT_VALUE_OR_ARRAY_END:
			t = c == ']' ? close_container(lx, tok, ']') : value(lx, tok);
			break;
		case EXPECT_KEY:
			t = key(lx, tok);
			break;
		case EXPECT_KEY_OR_OBJECT_END:
			t = c == '}' ? close_container(lx, tok, '}') : key(lx, tok);
			break;
		case EXPECT_COMMA_OR_END: {
			char open = lx->container[lx->depth - 1];
			if (c == ',') {
				lx->pos++;
				lx->expect = open == '{' ? EXPECT_KEY : EXPECT_VALUE;
				continue;
			}
			if ((open == '{' && c == '}') || (open == '[' && c == ']'))
				t = close_container(lx, tok, c);
			else if (open == '{')
				t = fail(lx, lx->pos, "expected ',' or '}'");
			else
				t = fail(lx, lx->pos, "expected ',' or ']'");
			break;
		}
		case EXPECT_DONE:
			t = fail(lx, lx->pos, "trailing characters after the JSON value");
			break;
		default:
			t = JSON_ERROR;
			break;
		}
		tok->type = t;
		return t;
	}
}

/* Decodes one character of a validated raw string at raw[*i] into u[0..3]; returns the
 * number of bytes put in u and advances *i. */
static size_t decode_one(const char *raw, size_t raw_len, size_t *i, unsigned char u[4])
{
	size_t k = *i;
	unsigned char c = (unsigned char)raw[k];

	if (c != '\\' || k + 1 >= raw_len) {
		*i = k + 1;
		u[0] = c;
		return 1;
	}
	char e = raw[k + 1];
	*i = k + 2;
	switch (e) {
	case 'b':
		u[0] = '\b';
		return 1;
	case 'f':
		u[0] = '\f';
		return 1;
	case 'n':
		u[0] = '\n';
		return 1;
	case 'r':
		u[0] = '\r';
		return 1;
	case 't':
		u[0] = '\t';
		return 1;
	case 'u':
		break;
	default:
		u[0] = (unsigned char)e;
		return 1; /* '"', '\\', '/' */
	}
	if (k + 6 > raw_len) {
		*i = raw_len;
		return 0;
	}
	uint32_t cp = 0;
	for (size_t j = 2; j < 6; j++)
		cp = cp << 4 | (uint32_t)hex_digit_value(raw[k + j]);
	*i = k + 6;
	/* a high surrogate followed by an escaped low one is one character */
	if (cp >= 0xd800 && cp <= 0xdbff && k + 12 <= raw_len && raw[k + 6] == '\\' &&
	    raw[k + 7] == 'u') {
		uint32_t lo = 0;
		bool ok = true;
		for (size_t j = 8; j < 12; j++) {
			int h = hex_digit_value(raw[k + j]);
			ok = ok && h >= 0;
			lo = lo << 4 | (uint32_t)(h < 0 ? 0 : h);
		}
		if (ok && lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			*i = k + 12;
		}
	}
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | cp >> 18);
	u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t json_string_decode(const char *raw, size_t raw_len, char *out, size_t cap)
{
	size_t n = 0;
	size_t i = 0;

	/* bounded by raw_len: decode_one always advances i */
	while (i < raw_len) {
		unsigned char u[4];
		size_t m = decode_one(raw, raw_len, &i, u);
		for (size_t k = 0; k < m; k++, n++)
			if (n + 1 < cap)
				out[n] = (char)u[k];
	}
	if (cap > 0)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

bool json_string_equals(const char *raw, size_t raw_len, const char *s)
{
	size_t i = 0;
	size_t n = 0;

	while (i < raw_len) {
		unsigned char u[4];
		size_t m = decode_one(raw, raw_len, &i, u);
		for (size_t k = 0; k < m; k++, n++)
			if (s[n] == '\0' || (unsigned char)s[n] != u[k])
				return false;
	}
	return s[n] == '\0';
}

int json_number_u64(const char *raw, size_t raw_len, uint64_t *out)
{
	uint64_t v = 0;

	if (raw_len == 0)
		return -1;
	for (size_t i = 0; i < raw_len; i++) {
		if (!is_digit(raw[i]))
			return -1;
		uint64_t d = (uint64_t)(raw[i] - '0');
		if (v > (UINT64_MAX - d) / 10u)
			return -1;
		v = v * 10u + d;
	}
	*out = v;
	return 0;
}
