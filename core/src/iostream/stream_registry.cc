#include "iostream/stream_registry.h"

namespace tornado::detail {

LiveStream& live_streams() {
  thread_local LiveStream head{nullptr, 0, &head, &head};
  return head;
}

void link_stream(LiveStream& node, const BaseIOStream* stream) noexcept {
  LiveStream& head = live_streams();
  node.stream = stream;
  node.next = &head;  // append at the tail: oldest first
  node.prev = head.prev;
  head.prev->next = &node;
  head.prev = &node;
}

void unlink_stream(LiveStream& node) noexcept {
  if (node.prev == nullptr) return;
  node.prev->next = node.next;
  node.next->prev = node.prev;
  node.prev = node.next = nullptr;
}

}  // namespace tornado::detail
