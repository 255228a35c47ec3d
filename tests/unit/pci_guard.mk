# The PCI register that places the ACPI PM1 block (platform/pci_guard.c) found on a fake
# bus 0, and the configuration writes that would move it.
UNIT_TESTS += pci_guard
UNIT_SRC_pci_guard := hv/platform/pci_guard.c
