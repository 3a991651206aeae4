// ckptctl cps serve|list|show|sections|rm: the server-based checkpoint service's store
// (libraries/cps, docs/cps.md). `serve` runs the embedded single-member etcd that the library
// uses when no endpoints are configured; the others look at or remove what is stored, at
// the endpoints the library would use ($CKPT_CPS_ENDPOINTS, the config file, the default).
#include <ckp/cl_ckpt.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "ckptctl_commands.h"
#include "config.h"
#include "etcd_client.h"
#include "exit_codes.h"
#include "keys.h"
#include "section_record.h"

namespace ckptctl {

namespace {

namespace exit_code = ckpt::exit_code;
using cps::Clock;

struct Stored {
    std::string name, instance;
    cps::json meta;
    std::vector<cps::KeyValue> sections;
    long openers = 0;
};

std::string etcd_failure(const cps::EtcdResult &r)
{
    return r.message + " (endpoints from $CKPT_CPS_ENDPOINTS, " + cps::config_file_path() +
           ", or `ckptctl cps serve`)";
}

// Reads checkpoint `name`; nullopt with `code` set on failure.
std::optional<Stored> load(cps::EtcdClient &etcd, const std::string &name, int &code)
{
    const auto deadline = Clock::now() + cps::default_timeout();
    auto r = etcd.range(cps::name_key(name), deadline);
    if (!r.ok()) {
        code = fail(exit_code::kUnavailable, etcd_failure(r));
        return std::nullopt;
    }
    auto kv = cps::kvs_of(r.body);
    if (kv.empty()) {
        code = fail(exit_code::kNoInput, "no checkpoint named '" + printable(name) + "'");
        return std::nullopt;
    }
    Stored s;
    s.name = name;
    s.instance = kv[0].value;
    r = etcd.range(cps::meta_key(s.instance), deadline);
    auto meta = r.ok() ? cps::kvs_of(r.body) : std::vector<cps::KeyValue>{};
    s.meta = meta.empty() ? cps::json::object() : cps::json::parse(meta[0].value, nullptr, false);
    r = etcd.range(cps::sections_prefix(s.instance), deadline, true);
    if (r.ok()) s.sections = cps::kvs_of(r.body);
    r = etcd.range(cps::openers_prefix(s.instance), deadline, true, 0, true);
    if (r.ok()) s.openers = long(cps::as_int(r.body.value("count", cps::json("0"))));
    return s;
}

std::string kind(uint32_t flags)
{
    std::string k = flags & CL_CKPT_WR_ALL_REPLICAS ? "sync" : flags & CL_CKPT_WR_ACTIVE_REPLICA_WEAK ? "async-weak" : "async";
    if (flags & CL_CKPT_CHECKPOINT_COLLOCATED) k += ",collocated";
    return k;
}

std::string duration(int64_t ns) { return ns == CL_TIME_END ? "forever" : format_ns(uint64_t(ns)); }
std::string when(int64_t ns) { return ns == CL_TIME_END ? "never" : format_local_time(ns); }

std::string section_name(const std::string &key)
{
    std::string id;
    if (!cps::section_id_of(key, &id)) return "?";
    return id.empty() ? "(default)" : printable(id);
}

int serve(const std::string &data_dir_opt, const std::string &listen, const std::string &peer)
{
    std::string dir = data_dir_opt;
    if (dir.empty()) {
        const char *x = getenv("XDG_STATE_HOME");
        const char *h = getenv("HOME");
        if (x && *x) dir = std::string(x) + "/ckpt/cps-etcd";
        else if (h && *h) dir = std::string(h) + "/.local/state/ckpt/cps-etcd";
        else return fail(exit_code::kUsage, "no HOME: give --data-dir");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(exit_code::kCantCreate, "cannot create " + dir + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    std::cerr << "ckptctl cps: etcd at " << listen << ", data in " << dir << "\n";
    // One member; its peer URL is only used by itself.
    const std::string args[] = {"etcd", "--name", "ckpt-cps", "--data-dir", dir, "--listen-client-urls", listen,
                                "--advertise-client-urls", listen, "--listen-peer-urls", peer,
                                "--initial-advertise-peer-urls", peer, "--initial-cluster", "ckpt-cps=" + peer,
                                "--log-level", "warn"};
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    execvp("etcd", argv.data());
    return fail(exit_code::kNotFound, std::string("cannot run etcd: ") + strerror(errno) +
                                          " (install etcd-server: scripts/setup.sh)");
}

}  // namespace

Runner add_cps(CLI::App &app)
{
    CLI::App *cps_cmd = app.add_subcommand("cps", "the server-based checkpoint service's store (docs/cps.md)");
    cps_cmd->require_subcommand(1);
    auto data_dir = std::make_shared<std::string>();
    auto listen = std::make_shared<std::string>(cps::kDefaultEndpoint);
    auto name = std::make_shared<std::string>();
    CLI::App *serve_cmd = cps_cmd->add_subcommand("serve", "run the embedded single-member etcd (foreground)");
    serve_cmd->add_option("--data-dir", *data_dir, "etcd data directory (default $XDG_STATE_HOME/ckpt/cps-etcd)");
    serve_cmd->add_option("--listen", *listen, "client URL")->capture_default_str();
    auto peer = std::make_shared<std::string>("http://127.0.0.1:2380");
    serve_cmd->add_option("--peer", *peer, "peer URL (the member's own)")->capture_default_str();
    CLI::App *list_cmd = cps_cmd->add_subcommand("list", "list the stored checkpoints");
    CLI::App *show_cmd = cps_cmd->add_subcommand("show", "show checkpoint NAME's attributes");
    CLI::App *sections_cmd = cps_cmd->add_subcommand("sections", "list checkpoint NAME's sections");
    CLI::App *rm_cmd = cps_cmd->add_subcommand("rm", "delete checkpoint NAME (openers keep it until they close)");
    for (CLI::App *c : {show_cmd, sections_cmd, rm_cmd}) c->add_option("NAME", *name, "checkpoint name")->required();

    return [=](const Globals &) -> int {
        if (serve_cmd->parsed()) return serve(*data_dir, *listen, *peer);
        cps::EtcdClient etcd(cps::configured_endpoints());
        const auto deadline = Clock::now() + cps::default_timeout();
        if (list_cmd->parsed()) {
            auto r = etcd.range(cps::names_prefix(), deadline, true);
            if (!r.ok()) return fail(exit_code::kUnavailable, etcd_failure(r));
            Table t({"NAME", "KIND", "SECTIONS", "BYTES", "RETENTION", "OPENERS"});
            for (size_t c : {2u, 3u, 5u}) t.align_right(c);
            for (const auto &kv : cps::kvs_of(r.body)) {
                int code = 0;
                auto s = load(etcd, kv.key.substr(cps::names_prefix().size()), code);
                if (!s) continue;  // deleted meanwhile
                uint64_t bytes = 0;
                for (const auto &sec : s->sections) bytes += cps::decode_section(sec.value).data.size();
                t.add({printable(s->name), kind(s->meta.value("creationFlags", 0u)), std::to_string(s->sections.size()),
                       std::to_string(bytes), duration(s->meta.value("retentionDuration", int64_t(0))),
                       std::to_string(s->openers)});
            }
            std::cout << t.str();
            return exit_code::kOk;
        }
        if (rm_cmd->parsed()) {
            ClCkptSvcHdlT svc;
            ClVersionT v{CL_CKPT_RELEASE_CODE, CL_CKPT_MAJOR_VERSION, CL_CKPT_MINOR_VERSION};
            if (clCkptInitialize(&svc, nullptr, &v) != CL_OK)
                return fail(exit_code::kUnavailable, std::string(clCkptErrorText()));
            ClNameT n{};
            if (name->empty() || name->size() > CL_MAX_NAME_LENGTH)
                return fail(exit_code::kUsage, "a checkpoint name has 1 to 256 bytes");
            n.length = ClUInt16T(name->size());
            memcpy(n.value, name->data(), name->size());
            const ClRcT rc = clCkptCheckpointDelete(svc, &n);
            const std::string why = clCkptErrorText();
            clCkptFinalize(svc);
            if (rc == CL_CKPT_ERR_NOT_EXIST) return fail(exit_code::kNoInput, "no checkpoint named '" + printable(*name) + "'");
            if (rc != CL_OK) return fail(exit_code::kUnavailable, why);
            std::cout << "deleted checkpoint " << printable(*name) << "\n";
            return exit_code::kOk;
        }
        int code = 0;
        auto s = load(etcd, *name, code);
        if (!s) return code;
        if (show_cmd->parsed()) {
            const auto &m = s->meta;
            std::cout << "name               " << printable(s->name) << "\n"
                      << "instance           " << s->instance << "\n"
                      << "kind               " << kind(m.value("creationFlags", 0u)) << "\n"
                      << "checkpointSize     " << m.value("checkpointSize", 0ull) << "\n"
                      << "maxSections        " << m.value("maxSections", 0u) << "\n"
                      << "maxSectionSize     " << m.value("maxSectionSize", 0u) << "\n"
                      << "maxSectionIdSize   " << m.value("maxSectionIdSize", 0ull) << "\n"
                      << "retention          " << duration(m.value("retentionDuration", int64_t(0))) << "\n"
                      << "sections           " << s->sections.size() << "\n"
                      << "openers            " << s->openers << "\n";
            return exit_code::kOk;
        }
        Table t({"SECTION", "BYTES", "STATE", "EXPIRES", "UPDATED"});
        t.align_right(1);
        for (const auto &kv : s->sections) {
            const auto rec = cps::decode_section(kv.value);
            t.add({section_name(kv.key), std::to_string(rec.data.size()), rec.corrupted ? "corrupted" : "valid",
                   when(rec.expiration), format_local_time(rec.last_update)});
        }
        std::cout << t.str();
        return exit_code::kOk;
    };
}

}  // namespace ckptctl
