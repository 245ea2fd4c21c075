"""Mappings from canonical events to partner formats (XSLT 1.0 run by lxml).

- ``xslt``: ``Mapping``, what a target maps with (one file, or a profile
  folder chosen by event type), compiled and checked at start-up;
- ``stylesheet``: one compiled XSLT file and its file:line errors;
- ``catalog``: the profile folders of ``mappings/`` (``profile.toml``,
  mapping files, samples);
- ``samples``: run samples and compare outputs, with a diff;
- ``validate``: check an output against the target's contract;
- ``preview``: the request a target would be sent for an event.
"""
