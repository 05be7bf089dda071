// Which pages of a copy-on-write file mapping the process has written to since it was mapped:
// those the kernel has replaced by private anonymous copies (/proc/self/pagemap: present and
// not file-backed, or swapped out). A restored guest's memory is such a mapping, so these are
// exactly the pages a delta layer must save. Pages never touched are not present and are not
// reported (they are still the file's, or zero).
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "snapshot/layer_format.h"

namespace wop::snapshot {

// base must be page aligned; bytes a multiple of kPageBytes.
common::Result<std::vector<PageRun>> privatelyWrittenPages(const uint8_t* base, uint64_t bytes);

}  // namespace wop::snapshot
