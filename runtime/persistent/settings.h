// The persistent layer's settings, read from the environment the launcher gives the program.
#pragma once

namespace ckpt::persist {

struct Settings {
    bool sync_undo = false;           // --sync-undo: every record durable before its change
    bool proceed_on_failure = false;  // --on-undo-failure=proceed
};
extern Settings g_cfg;

void load_settings();  // CKPT_SYNC_UNDO, CKPT_ON_UNDO_FAILURE

}  // namespace ckpt::persist
