/* SPDX-License-Identifier: MIT */
/* The operator's key pair (keys.h). */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hex.h"
#include "lib/json.h"
#include "request.h"

/* Writes text into a new file (O_EXCL) of the given mode. 0, or -1 with errno. */
static int write_new(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	size_t len = strlen(text), done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		int e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

int keys_generate(const char *path, uint8_t pub_out[CHAN_PUBKEY_LEN], char *why, size_t cap)
{
	uint8_t seed[2 * CHAN_KEYSEED_MIN], priv[CHAN_PRIVKEY_LEN], pub[CHAN_PUBKEY_LEN];
	char hex[2 * CHAN_PUBKEY_LEN + 1], text[256], pub_path[4096];
	int rc = -1;

	if (snprintf(pub_path, sizeof(pub_path), "%s.pub", path) >= (int)sizeof(pub_path)) {
		snprintf(why, cap, "%s: path too long", path);
		return -1;
	}
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		snprintf(why, cap, "getrandom: %s", strerror(errno));
		return -1;
	}
	if (chan_keygen(seed, sizeof(seed), priv, pub) != 0) {
		snprintf(why, cap, "cannot make a key pair");
		goto out;
	}
	hex_encode(priv, sizeof(priv), hex);
	snprintf(text, sizeof(text),
		 "# ctrvisor operator key (ECDSA P-256): keep it secret; FILE.pub is its public "
		 "half\n"
		 "%s%s\n",
		 KEYS_PRIVATE_TAG, hex);
	if (write_new(path, 0600, text) != 0) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		goto out;
	}
	hex_encode(pub, CHAN_PUBKEY_LEN, hex);
	snprintf(text, sizeof(text), "operator_key = %s\n", hex);
	if (write_new(pub_path, 0644, text) != 0) {
		snprintf(why, cap, "%s: %s", pub_path, strerror(errno));
		unlink(path);
		goto out;
	}
	memcpy(pub_out, pub, CHAN_PUBKEY_LEN);
	rc = 0;
out:
	mem_wipe(seed, sizeof(seed));
	mem_wipe(priv, sizeof(priv));
	mem_wipe(text, sizeof(text));
	mem_wipe(hex, sizeof(hex));
	return rc;
}

int keys_load_private(const char *path, uint8_t priv[CHAN_PRIVKEY_LEN], char *why, size_t cap)
{
	char line[512];
	struct stat st;
	FILE *f = fopen(path, "re");
	int rc = -1;

	if (f == NULL) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IONBF, 0); /* no stdio buffer to hold the key after fclose */
	if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
		snprintf(why, cap, "%s: readable by others (chmod 600 it)", path);
		goto out;
	}
	snprintf(why, cap, "%s: no \"%s\" line", path, KEYS_PRIVATE_TAG);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n"), tag = strlen(KEYS_PRIVATE_TAG);

		if (strncmp(line, KEYS_PRIVATE_TAG, tag) != 0)
			continue;
		if (hex_decode(line + tag, len - tag, priv, CHAN_PRIVKEY_LEN, NULL) != 0) {
			snprintf(why, cap, "%s: the key is not %u hex digits", path,
				 2 * CHAN_PRIVKEY_LEN);
			mem_wipe(priv, CHAN_PRIVKEY_LEN);
			break;
		}
		uint8_t pub[CHAN_PUBKEY_LEN];
		if (chan_public_key(priv, pub) != 0) {
			snprintf(why, cap, "%s: not a valid P-256 private key", path);
			mem_wipe(priv, CHAN_PRIVKEY_LEN);
			break;
		}
		rc = 0;
		break;
	}
out:
	mem_wipe(line, sizeof(line));
	fclose(f);
	return rc;
}

int status_channel_member(const char *status_json, size_t len, const char *name,
			  struct json_token *value)
{
	struct json_lexer lx;
	struct json_token t;
	bool in_channel = false, at_key = false;

	json_lexer_init(&lx, status_json, len);
	for (;;) {
		enum json_token_type type = json_next(&lx, &t);
		if (type == JSON_END || type == JSON_ERROR)
			return -1;
		if (type == JSON_KEY && t.depth == 1) {
			in_channel = json_string_equals(status_json + t.start, t.len, "channel");
			continue;
		}
		if (!in_channel)
			continue;
		if (type == JSON_KEY && t.depth == 2) {
			at_key = json_string_equals(status_json + t.start, t.len, name);
			continue;
		}
		if (at_key) {
			*value = t;
			return 0;
		}
	}
}

int pair_monitor_key(const char *status_json, size_t len, uint8_t key[CHAN_PUBKEY_LEN], char *why,
		     size_t cap)
{
	struct json_token t;

	if (status_channel_member(status_json, len, "monitor_key", &t) != 0) {
		snprintf(why, cap, "status names no monitor key (a monitor without the channel?)");
		return -1;
	}
	if (t.type == JSON_NULL) {
		snprintf(why, cap,
			 "the monitor made no channel key at this boot (no random source: see "
			 "`hvctl status`)");
		return -1;
	}
	if (t.type != JSON_STRING ||
	    hex_decode(status_json + t.start, t.len, key, CHAN_PUBKEY_LEN, NULL) != 0 ||
	    !chan_public_key_valid(key)) {
		snprintf(why, cap, "the monitor's key is not a P-256 point");
		return -1;
	}
	return 0;
}

int hvctl_keygen(int argc, char **argv)
{
	uint8_t pub[CHAN_PUBKEY_LEN];
	char why[4200], hex[2 * CHAN_PUBKEY_LEN + 1];

	if (argc != 2) {
		fprintf(stderr, "usage: hvctl keygen FILE   (FILE: the private key, FILE.pub: the "
				"line for hv.cfg)\n");
		return HVCTL_EXIT_USAGE;
	}
	if (keys_generate(argv[1], pub, why, sizeof(why)) != 0) {
		fprintf(stderr, "hvctl keygen: %s\n", why);
		return HVCTL_EXIT_USAGE;
	}
	hex_encode(pub, sizeof(pub), hex);
	printf("private key: %s (mode 0600: keep it secret)\n"
	       "public key:  %s.pub; put this line in the ESP's \\hv\\hv.cfg:\n"
	       "operator_key = %s\n",
	       argv[1], argv[1], hex);
	return HVCTL_EXIT_OK;
}
