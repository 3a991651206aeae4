// Durations on the command line: "500ms", "2s", "30m", "1h", or plain seconds ("1.5").
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ckpt {

std::optional<std::chrono::nanoseconds> parse_duration(const std::string &text);
std::string format_duration(std::chrono::nanoseconds d);

// A signal by name ("SIGUSR2", "USR2", "RTMIN+3", "SIGRTMAX-1") or number.
std::optional<int> parse_signal(const std::string &text);
std::string signal_name(int sig);

}  // namespace ckpt
