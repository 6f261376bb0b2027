#pragma once
/// The cluster page (web/monitor/), embedded into the binary at build time by
/// cmake/EmbedFiles.cmake, so web_monitor serves it without files on disk.

#include <string_view>

namespace raft::monitor::assets {

extern const std::string_view kIndexHtml;
extern const std::string_view kMonitorCss;
extern const std::string_view kMonitorJs;
/// web/shared/: the palette and light/dark switch the node pages share.
extern const std::string_view kThemeCss;
extern const std::string_view kThemeJs;

}  // namespace raft::monitor::assets
