// Where the checkpoint service keeps what in etcd (docs/cps.md, "Layout"). Every key is under
// one prefix ($CKPT_CPS_PREFIX, default "/ckpt/cps/"):
//   PREFIX format                         the layout version (kFormatVersion); absent: new store
//   PREFIX name/NAME                      -> instance id; the checkpoint's name (deleted at once by Delete)
//   PREFIX ckpt/ID/meta                   -> creation attributes, retention lease, unlinked flag (JSON)
//   PREFIX ckpt/ID/open/OPENER            one key per open handle, on its process's session lease
//   PREFIX ckpt/ID/active                 -> OPENER holding the active replica (asynchronous checkpoints)
//   PREFIX ckpt/ID/sec/d                  the default section; sec/xHEX: the section with id HEX
// An instance id is fresh for every creation, so a checkpoint deleted and created again under
// the same name never mixes with the old instance its openers still use.
#pragma once

#include <string>

namespace cps {

inline constexpr const char *kFormatVersion = "1";

std::string key_prefix();  // PREFIX
inline std::string format_key() { return key_prefix() + "format"; }
inline std::string name_key(const std::string &name) { return key_prefix() + "name/" + name; }
inline std::string names_prefix() { return key_prefix() + "name/"; }
inline std::string instance_prefix(const std::string &id) { return key_prefix() + "ckpt/" + id + "/"; }
inline std::string meta_key(const std::string &id) { return instance_prefix(id) + "meta"; }
inline std::string openers_prefix(const std::string &id) { return instance_prefix(id) + "open/"; }
inline std::string active_key(const std::string &id) { return instance_prefix(id) + "active"; }
inline std::string sections_prefix(const std::string &id) { return instance_prefix(id) + "sec/"; }
// The key of a section (an empty id is the default section).
std::string section_key(const std::string &instance, const std::string &section_id);
// The section id of a section key (inverse of section_key); false if `key` is not one.
bool section_id_of(const std::string &key, std::string *section_id);

}  // namespace cps
