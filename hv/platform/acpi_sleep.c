/* SPDX-License-Identifier: MIT */
#include "platform/acpi_sleep.h"

#include "lib/fmt.h"
#include "lib/string.h"

/* ACPI 6.x §5.2.5.3 RSDP, §5.2.6 table header, §5.2.9 FADT offsets. */
#define RSDP_RSDT_ADDRESS   16u
#define RSDP_REVISION       15u
#define RSDP_XSDT_ADDRESS   24u
#define HEADER_LENGTH       4u
#define HEADER_SIZE         36u
#define FADT_DSDT           40u
#define FADT_PM1A_CNT_BLK   64u
#define FADT_PM1B_CNT_BLK   68u
#define FADT_X_DSDT         140u
#define FADT_X_PM1A_CNT_BLK 172u /* Generic Address Structures, §5.2.3.2 */
#define FADT_X_PM1B_CNT_BLK 184u
#define FADT_SLEEP_CONTROL  244u
#define GAS_SIZE            12u
#define GAS_SPACE_MEMORY    0u
#define GAS_SPACE_IO        1u
#define TABLES_MAX          64u        /* entries of the XSDT/RSDT looked at */
#define DSDT_SCAN_MAX       (1u << 20) /* bytes of the DSDT searched for \_S5 */
#define DSDT_CHUNK          4096u

static bool read_u32(acpi_read_fn read, void *ctx, uint64_t pa, uint32_t *v)
{
	return read(ctx, pa, v, sizeof(*v));
}

static bool read_u64(acpi_read_fn read, void *ctx, uint64_t pa, uint64_t *v)
{
	return read(ctx, pa, v, sizeof(*v));
}

/* An I/O port from a Generic Address Structure, or 0; one in memory space is noted. */
static uint16_t gas_port(acpi_read_fn read, void *ctx, uint64_t pa, struct acpi_sleep *out)
{
	uint8_t gas[GAS_SIZE];
	uint64_t address;
	if (!read(ctx, pa, gas, sizeof(gas)))
		return 0;
	memcpy(&address, gas + 4, sizeof(address));
	if (gas[0] == GAS_SPACE_MEMORY && address != 0)
		out->in_memory = true;
	if (gas[0] != GAS_SPACE_IO)
		return 0;
	return address <= 0xFFFFu ? (uint16_t)address : 0;
}

static bool find_fadt(acpi_read_fn read, void *ctx, uint64_t rsdp, uint64_t *fadt,
		      uint32_t *fadt_len, struct acpi_sleep *out)
{
	uint8_t revision;
	uint64_t sdt = 0;
	uint32_t entry = 4;
	if (!read(ctx, rsdp + RSDP_REVISION, &revision, 1)) {
		fmt_snprintf(out->error, sizeof(out->error), "RSDP unreadable");
		return false;
	}
	if (revision >= 2 && read_u64(read, ctx, rsdp + RSDP_XSDT_ADDRESS, &sdt) && sdt != 0) {
		entry = 8;
	} else {
		uint32_t rsdt = 0;
		if (!read_u32(read, ctx, rsdp + RSDP_RSDT_ADDRESS, &rsdt) || rsdt == 0) {
			fmt_snprintf(out->error, sizeof(out->error), "no RSDT or XSDT");
			return false;
		}
		sdt = rsdt;
	}
	uint32_t len;
	if (!read_u32(read, ctx, sdt + HEADER_LENGTH, &len) || len < HEADER_SIZE) {
		fmt_snprintf(out->error, sizeof(out->error), "bad RSDT/XSDT");
		return false;
	}
	uint32_t n = (len - HEADER_SIZE) / entry;
	for (uint32_t i = 0; i < n && i < TABLES_MAX; i++) {
		uint64_t table = 0;
		char sig[4];
		if (!read(ctx, sdt + HEADER_SIZE + i * entry, &table, entry) ||
		    !read(ctx, table, sig, sizeof(sig)) || memcmp(sig, "FACP", 4) != 0)
			continue;
		if (!read_u32(read, ctx, table + HEADER_LENGTH, fadt_len) ||
		    *fadt_len < FADT_PM1B_CNT_BLK + 4) {
			fmt_snprintf(out->error, sizeof(out->error), "FADT too short");
			return false;
		}
		*fadt = table;
		return true;
	}
	fmt_snprintf(out->error, sizeof(out->error), "no FADT");
	return false;
}

/* One data object of a package (§20.2.3 ComputationalData): Zero, One, or a BytePrefix. */
static int aml_small_int(const uint8_t *p, uint32_t left, uint8_t *v)
{
	if (left >= 1 && (p[0] == 0x00 || p[0] == 0x01)) {
		*v = p[0];
		return 1;
	}
	if (left >= 2 && p[0] == 0x0A) {
		*v = p[1];
		return 2;
	}
	return -1;
}

/* `Name (_S5_, Package () {SLP_TYPa, SLP_TYPb, ...})`: NameOp (08), the name (with an
 * optional root prefix '\\'), PackageOp (12), a one-byte PkgLength, NumElements, then
 * the data (§20.2.5.4, §20.2.5.5). */
static bool parse_s5(const uint8_t *p, uint32_t left, uint8_t typ[2])
{
	uint32_t k = 4; /* past "_S5_" */
	if (k >= left || p[k] != 0x12)
		return false;
	k += 1;
	if (k + 2 > left || (p[k] & 0xC0) != 0) /* a one-byte PkgLength only */
		return false;
	k += 2; /* PkgLength, NumElements */
	for (int i = 0; i < 2; i++) {
		int used = aml_small_int(p + k, left - k, &typ[i]);
		if (used < 0)
			return false;
		k += (uint32_t)used;
	}
	return true;
}

static void find_s5(acpi_read_fn read, void *ctx, uint64_t dsdt, struct acpi_sleep *out)
{
	uint32_t len;
	if (dsdt == 0 || !read_u32(read, ctx, dsdt + HEADER_LENGTH, &len) || len <= HEADER_SIZE)
		return;
	if (len > DSDT_SCAN_MAX)
		len = DSDT_SCAN_MAX;
	/* Chunks overlapping by 16 bytes, so a pattern across a boundary is seen whole. */
	static uint8_t buf[DSDT_CHUNK + 16];
	for (uint32_t off = HEADER_SIZE; off < len; off += DSDT_CHUNK) {
		uint32_t n = len - off < sizeof(buf) ? len - off : (uint32_t)sizeof(buf);
		if (!read(ctx, dsdt + off, buf, n))
			return;
		for (uint32_t i = 1; i + 4 <= n && i <= DSDT_CHUNK; i++) {
			if (memcmp(buf + i, "_S5_", 4) != 0 ||
			    (buf[i - 1] != 0x08 &&
			     !(buf[i - 1] == '\\' && i >= 2 && buf[i - 2] == 0x08)))
				continue;
			if (parse_s5(buf + i, n - i, out->s5_slp_typ)) {
				out->s5_known = true;
				return;
			}
		}
	}
}

bool acpi_sleep_find(acpi_read_fn read, void *ctx, uint64_t rsdp, struct acpi_sleep *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t fadt;
	uint32_t fadt_len;
	if (rsdp == 0) {
		fmt_snprintf(out->error, sizeof(out->error), "no RSDP");
		return false;
	}
	if (!find_fadt(read, ctx, rsdp, &fadt, &fadt_len, out))
		return false;
	uint32_t blk;
	if (read_u32(read, ctx, fadt + FADT_PM1A_CNT_BLK, &blk) && blk <= 0xFFFFu)
		out->pm1_cnt[0] = (uint16_t)blk;
	if (read_u32(read, ctx, fadt + FADT_PM1B_CNT_BLK, &blk) && blk <= 0xFFFFu)
		out->pm1_cnt[1] = (uint16_t)blk;
	/* The 64-bit blocks win over the 32-bit ones when set (§5.2.9). */
	if (fadt_len >= FADT_X_PM1A_CNT_BLK + GAS_SIZE) {
		uint16_t x = gas_port(read, ctx, fadt + FADT_X_PM1A_CNT_BLK, out);
		if (x)
			out->pm1_cnt[0] = x;
	}
	if (fadt_len >= FADT_X_PM1B_CNT_BLK + GAS_SIZE) {
		uint16_t x = gas_port(read, ctx, fadt + FADT_X_PM1B_CNT_BLK, out);
		if (x)
			out->pm1_cnt[1] = x;
	}
	if (fadt_len >= FADT_SLEEP_CONTROL + GAS_SIZE)
		out->sleep_ctl = gas_port(read, ctx, fadt + FADT_SLEEP_CONTROL, out);
	uint64_t dsdt = 0;
	uint32_t dsdt32 = 0;
	if (fadt_len >= FADT_X_DSDT + 8)
		read_u64(read, ctx, fadt + FADT_X_DSDT, &dsdt);
	if (dsdt == 0 && read_u32(read, ctx, fadt + FADT_DSDT, &dsdt32))
		dsdt = dsdt32;
	find_s5(read, ctx, dsdt, out);
	return true;
}

enum acpi_sleep_reg acpi_sleep_reg_of(const struct acpi_sleep *s, uint16_t port, unsigned int *byte)
{
	for (int r = 0; r < 2; r++) {
		if (s->pm1_cnt[r] != 0 && (uint16_t)(port - s->pm1_cnt[r]) < 2u) {
			*byte = (uint16_t)(port - s->pm1_cnt[r]);
			return r == 0 ? ACPI_SLEEP_PM1A : ACPI_SLEEP_PM1B;
		}
	}
	if (s->sleep_ctl != 0 && port == s->sleep_ctl) {
		*byte = 0;
		return ACPI_SLEEP_CTL;
	}
	return ACPI_SLEEP_NONE;
}

bool acpi_sleep_write_allowed(const struct acpi_sleep *s, enum acpi_sleep_reg reg, uint32_t value,
			      uint8_t *slp_typ)
{
	uint8_t want;
	bool enable;
	if (reg == ACPI_SLEEP_CTL) {
		enable = (value & SLEEP_CTL_SLP_EN) != 0;
		*slp_typ = (uint8_t)((value & SLEEP_CTL_SLP_TYP_MASK) >> SLEEP_CTL_SLP_TYP_SHIFT);
		want = s->s5_slp_typ[0];
	} else if (reg == ACPI_SLEEP_PM1A || reg == ACPI_SLEEP_PM1B) {
		enable = (value & PM1_CNT_SLP_EN) != 0;
		*slp_typ = (uint8_t)((value & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT);
		want = s->s5_slp_typ[reg == ACPI_SLEEP_PM1B ? 1 : 0];
	} else {
		return true;
	}
	return !enable || (s->s5_known && *slp_typ == want);
}
