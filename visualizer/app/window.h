// The GLFW window with an OpenGL 3 context and Dear ImGui on it. Headless, the
// window is hidden and frames are read back from the framebuffer as a PNG
// (under Xvfb, Mesa renders in software).
#pragma once

#include <string>

struct GLFWwindow;

namespace tornado::viz {

class Window {
 public:
  /// Opens the window and sets ImGui up. Throws tornado::Error if there is
  /// no display or no OpenGL 3. Main thread only, as every method.
  Window(int width, int height, bool hidden);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  bool should_close() const;
  /// Waits for input for at most `seconds`, then starts an ImGui frame.
  void begin_frame(double seconds);
  /// Renders the frame and, when visible, shows it.
  void end_frame();
  /// Writes the last rendered frame as a PNG; false (with `error`) if it cannot.
  bool write_png(const std::string& path, std::string& error) const;
  int width() const;
  int height() const;

 private:
  GLFWwindow* window_ = nullptr;
  bool hidden_;
};

}  // namespace tornado::viz
