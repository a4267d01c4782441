#pragma once
// Small string helpers used everywhere. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace strata {

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Levenshtein distance (insertions, deletions, substitutions of bytes).
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` when at most `max_distance` edits away (the first of equals),
// else "": for "did you mean …?" hints.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates,
                          size_t max_distance = 3);
// Reads a whole file; false when it cannot be read.
bool read_file(const std::string& path, std::string& out);
// Writes a file atomically (temp file + rename); false on failure.
bool write_file_atomic(const std::string& path, std::string_view content);
// Writes (creates or truncates) a file in place: for many small files that are rewritten on every
// run and never read while being written (a rename costs ~0.2 ms each on ext4). False on failure.
bool write_file(const std::string& path, std::string_view content);

}  // namespace strata
