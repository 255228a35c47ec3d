# Requests between CPUs (hold the others, INVEPT on every CPU, NMI kicks), with one thread
# per simulated CPU.
UNIT_TESTS += cpus
UNIT_SRC_cpus := hv/core/cpus.c hv/lib/fmt.c
UNIT_LIBS_cpus := -lpthread
