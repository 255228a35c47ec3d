/* EPT paging-structure pages from the host heap for tests that build real EPT tables
 * (mm/ept.h): "physical" addresses are host pointers. Test-only. */
#ifndef TESTS_UNIT_HEAP_EPT_H
#define TESTS_UNIT_HEAP_EPT_H

#include "mm/ept.h"

#define HEAP_EPT_PAGES 512u /* more fails as an allocator out of memory does */

extern const struct ept_alloc heap_ept_alloc;

/* Frees every page handed out so far. */
void heap_ept_free_all(void);

#endif
