// Display names of the model's enums, shared by the JSON dump and the app.
#pragma once

#include <string>
#include <string_view>

#include "model/cause.h"
#include "model/fds_state.h"
#include "model/loop_state.h"
#include "model/streams_state.h"
#include "tornado/trace.h"

namespace tornado::viz {

std::string_view name_of(PollReason reason);
std::string_view name_of(FdKind kind);
std::string_view name_of(StreamPhase phase);
std::string_view name_of(CauseKind kind);
std::string_view name_of(trace::Via via);
std::string_view name_of(trace::SyncKind kind);
std::string_view name_of(trace::WaitKind kind);
std::string_view name_of(trace::StreamKind kind);
/// "R", "W", "E" letters of an event mask ("RW", "" for none).
std::string events_string(std::uint64_t events);

}  // namespace tornado::viz
