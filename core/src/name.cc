#include "tornado/name.h"

#include <mutex>
#include <string>
#include <unordered_set>

namespace tornado {

std::string Site::describe() const {
  std::string text = label != nullptr ? label : where.function_name();
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
