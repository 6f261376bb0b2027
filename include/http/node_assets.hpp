#pragma once
/// The node's web page (web/node/), embedded into the binary at build time by
/// cmake/EmbedFiles.cmake, so raft_node serves it without any files on disk.

#include <string_view>

namespace raft::http::assets {

extern const std::string_view kNodeHtml;
extern const std::string_view kNodeCss;
extern const std::string_view kNodeJs;
/// web/shared/: the palette and light/dark switch the monitor's page shares.
extern const std::string_view kThemeCss;
extern const std::string_view kThemeJs;

}  // namespace raft::http::assets
