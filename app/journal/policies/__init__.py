"""Split policies: effective-dated versions of how revenue is shared.

* ``versions``: the stored versions as the core's ``PolicyBook`` (what crediting reads), the
  version in force for an event, and adding new versions without rewriting history;
* ``policy_file``: reading versions from a JSON or CSV file, every bad field reported.
"""
