/* SPDX-License-Identifier: MIT */
/*
 * The verified boot chain's host side (docs/boot-signature.md), local commands:
 *   hvctl --key FILE embed-key HVBOOT.EFI      the operator's public key into the loader
 *   hvctl --key FILE sign-boot HV.CFG CORE PROFILE|none OUT.SIG
 *                                               the signature the loader checks
 */
#ifndef HVCTL_BOOTSIGN_H
#define HVCTL_BOOTSIGN_H

/* argv[0] is the command. Exit status. */
int hvctl_embed_key(const char *key_path, int argc, char **argv);
int hvctl_sign_boot(const char *key_path, int argc, char **argv);

#endif
