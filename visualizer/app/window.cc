#include "window.h"

#define GLFW_INCLUDE_NONE
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <vector>

#include "tornado/errors.h"

namespace tornado::viz {
namespace {

std::string glfw_error() {
  const char* text = nullptr;
  glfwGetError(&text);
  return text != nullptr ? text : "unknown GLFW error";
}

// Mesa unloads its driver when the display closes, so LeakSanitizer reports
// the driver's own leaks from an "<unknown module>" that no suppression can
// name. Pinning every loaded library keeps them named (see lsan.supp).
void pin_libraries_for_leak_reports() {
#if defined(__SANITIZE_ADDRESS__)
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
          ::dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        }
        return 0;
      },
      nullptr);
#endif
}

}  // namespace

Window::Window(int width, int height, bool hidden) : hidden_(hidden) {
  if (glfwInit() == GLFW_FALSE) {
    throw Error("cannot open a window (" + glfw_error() +
                "); headless runs need Xvfb: xvfb-run -a");
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  glfwWindowHint(GLFW_VISIBLE, hidden ? GLFW_FALSE : GLFW_TRUE);
  window_ = glfwCreateWindow(width, height, "tornado-viz", nullptr, nullptr);
  if (window_ == nullptr) {
    std::string why = glfw_error();
    glfwTerminate();
    throw Error("cannot create an OpenGL 3 window: " + why);
  }
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(hidden ? 0 : 1);
  pin_libraries_for_leak_reports();
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is ours, the same on every run
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window_, true);
  ImGui_ImplOpenGL3_Init("#version 130");
}

Window::~Window() {
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window_);
  glfwTerminate();
}

bool Window::should_close() const { return glfwWindowShouldClose(window_) != 0; }

void Window::begin_frame(double seconds) {
  if (hidden_) {
    glfwPollEvents();
  } else {
    glfwWaitEventsTimeout(seconds);
  }
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
}

void Window::end_frame() {
  ImGui::Render();
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  glViewport(0, 0, w, h);
  glClearColor(0.08f, 0.08f, 0.10f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (!hidden_) glfwSwapBuffers(window_);
}

int Window::width() const {
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  return w;
}

int Window::height() const {
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  return h;
}

// Hidden windows render into the back buffer, which glReadPixels reads.
bool Window::write_png(const std::string& path, std::string& error) const {
  int w = width(), h = height();
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(hidden_ ? GL_BACK : GL_FRONT);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  stbi_flip_vertically_on_write(1);  // OpenGL's rows run bottom-up
  if (stbi_write_png(path.c_str(), w, h, 3, pixels.data(), w * 3) == 0) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace tornado::viz
