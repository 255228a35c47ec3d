# The ticket lock every shared structure of the core is taken with (hv/lib/spinlock.h).
UNIT_TESTS += spinlock
UNIT_SRC_spinlock :=
UNIT_LIBS_spinlock := -lpthread
