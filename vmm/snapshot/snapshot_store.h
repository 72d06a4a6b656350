// SPDX-License-Identifier: MIT
// Snapshots as files: one file per name, NAME.strobesnap, in a folder (--snapshot-dir; by default
// $XDG_DATA_HOME/strobe/snapshots, else ~/.local/share/strobe/snapshots, created on the first save). Raw
// disk images cannot hold snapshots as qcow2 does, so the VM's state lives beside them. A save writes a
// temporary file and renames it over the old one, so a crash never leaves half a snapshot under a name.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "vmm/snapshot/snapshot_file.h"
#include "vmm/vm.h"

namespace strobe::vmm {

class SnapshotStore {
 public:
  explicit SnapshotStore(std::string dir) : dir_(std::move(dir)) {}
  static std::string DefaultDir();
  const std::string& dir() const { return dir_; }
  std::string PathOf(const std::string& name) const { return dir_ + "/" + name + ".strobesnap"; }
  // A name is 1-64 of [A-Za-z0-9._-], not starting with '.' (it names a file).
  static bool ValidName(const std::string& name, std::string* error);

  // On the vCPU thread between slices (or before Run), with the disks quiet (VmState::Quiet). false with
  // one line in *error: a device or disk that cannot be saved, a name or file that cannot be used, a file
  // that is corrupt, truncated, of another format or of another machine (then the VM is unchanged).
  // Several VMs of one process share the store (tools/strobe's --vms, --vm): saver is the VM's index
  // (-1: the only VM). A name one VM saved in this process is refused to another ("saved by vm0"), so
  // that two VMs never replace each other's snapshot; the VM that saved it may replace it, as one VM
  // may; delvm releases the name. Any VM may load any snapshot whose configuration matches its own.
  bool Save(Vm& vm, const std::string& name, std::string* error, int saver = -1);
  bool Load(Vm& vm, const std::string& name, std::string* error);
  bool Delete(const std::string& name, std::string* error);
  // The readable snapshots in the folder, oldest first (files that are not snapshots are skipped).
  std::vector<SnapshotInfo> List() const;

 private:
  bool SaveFile(Vm& vm, const std::string& name, std::string* error);

  std::string dir_;
  std::mutex savers_mu_;
  std::map<std::string, int> savers_;  // name -> the VM of this process that saved it (several VMs)
};

}  // namespace strobe::vmm
