# The ACPI sleep registers and \_S5 found in firmware tables (platform/acpi_sleep.c), over
# fake physical memory, and which writes to them the monitor lets through.
UNIT_TESTS += acpi_sleep
UNIT_SRC_acpi_sleep := hv/platform/acpi_sleep.c hv/lib/fmt.c hv/lib/string.c
