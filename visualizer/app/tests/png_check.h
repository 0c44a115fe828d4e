// What the tests check in a screenshot: its size and how many colours it has
// (a blank or broken render has a handful; the UI has hundreds).
#pragma once

#include <stb_image.h>

#include <cstdint>
#include <string>
#include <unordered_set>

namespace tornado::viz::testing {

struct PngFacts {
  bool loaded = false;
  int width = 0, height = 0;
  std::size_t colours = 0;
};

inline PngFacts png_facts(const std::string& path) {
  PngFacts facts;
  int channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &facts.width, &facts.height, &channels, 3);
  if (pixels == nullptr) return facts;
  facts.loaded = true;
  std::unordered_set<std::uint32_t> seen;
  const std::size_t n =
      static_cast<std::size_t>(facts.width) * static_cast<std::size_t>(facts.height);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* p = pixels + 3 * i;
    seen.insert(std::uint32_t{p[0]} << 16 | std::uint32_t{p[1]} << 8 | p[2]);
  }
  facts.colours = seen.size();
  stbi_image_free(pixels);
  return facts;
}

}  // namespace tornado::viz::testing
