#pragma once
/// The cluster page (web/monitor/), embedded into the binary at build time by
/// cmake/EmbedFiles.cmake, so web_monitor serves it without files on disk.

#include <string_view>

namespace raft::monitor::assets {

extern const std::string_view kIndexHtml;
extern const std::string_view kMonitorCss;
extern const std::string_view kMonitorJs;

}  // namespace raft::monitor::assets
