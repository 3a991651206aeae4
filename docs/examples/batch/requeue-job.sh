#!/usr/bin/env bash
# A batch job that resumes from its checkpoint when the scheduler requeues it (preemption,
# node failure, time limit). Written for Slurm; the same shape works for PBS/LSF/HTCondor
# (use their job id variable).
#
#   sbatch --requeue --signal=B:TERM@120 requeue-job.sh input.dat
#
#SBATCH --job-name=simulation
#SBATCH --time=04:00:00
#SBATCH --requeue
set -euo pipefail

# A restore needs the same kernel and the very same installed executable and libraries (they
# are checked by device, inode, size and mtime): pin the job to its node (--nodelist) or use
# nodes booted from one image with the software on shared storage.
#
# Same job name and directory on every (re)start: that is what makes ckpt-run recover.
job="${SLURM_JOB_NAME:-simulation}-${SLURM_JOB_ID:-local}"
export CKPT_DIR="${CKPT_DIR:-$HOME/ckpt}"   # shared storage, visible from every node

# Take a checkpoint every 15 minutes; the scheduler's TERM (sent 120 s before the time limit
# with --signal) is passed to the program, and the checkpoints stay for the requeued run.
# Output goes to a file opened without truncation, so a resumed run continues it.
touch result.txt
exec ckpt-run --name "$job" --interval 15m --watchdog --max-restarts 3 \
    -- ./simulate "$@" 1<>result.txt
