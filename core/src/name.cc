#include "tornado/name.h"

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace tornado {

namespace {

// Inside a coroutine, GCC names the function that runs its body ("actor"):
//   void {anonymous}::crawl(crawl(short unsigned int)::_ZN12_GLOBAL__N_15crawlEt.Frame*)
// Keep what a reader wrote, "crawl(short unsigned int)".
std::string readable_function_name(std::string_view name) {
  constexpr std::string_view kFrame = ".Frame*)";
  std::size_t mangled = name.rfind("::_Z");
  if (name.size() < kFrame.size() || name.substr(name.size() - kFrame.size()) != kFrame ||
      mangled == std::string_view::npos) {
    return std::string(name);
  }
  int depth = 0;  // find the '(' that the final ')' closes
  for (std::size_t i = name.size(); i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) {
      if (mangled <= i) break;
      return std::string(name.substr(i + 1, mangled - i - 1));
    }
  }
  return std::string(name);
}

}  // namespace

std::string Site::describe() const {
  std::string text = label != nullptr ? label : readable_function_name(where.function_name());
  if (text.empty()) text = "callback";
  std::string_view file = where.file_name();
  if (file.empty()) return text;
  if (auto slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
  return text + " at " + std::string(file) + ":" + std::to_string(where.line());
}

const char* intern_label(std::string_view label) {
  static std::mutex mutex;
  static auto* labels = new std::unordered_set<std::string>();  // never freed: Sites outlive main()
  std::string key(label);
  std::lock_guard lock(mutex);
  auto it = labels->find(key);
  if (it == labels->end()) it = labels->insert(std::move(key)).first;
  return it->c_str();
}

}  // namespace tornado
