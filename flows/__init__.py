"""Conversations declared as data (YAML) and the channel-neutral engine that runs them.

Nothing here knows LINE: the engine takes `flows.inputs.Incoming` and returns the plain message
objects of `flows.messages`; the `bot` package renders them. See DESIGN.md §4.

Entry points: `flows.loader.load_flows` (read and validate the YAML), `flows.engine.Engine`
(run them), `flows.actions.action` (register Python actions), `flows.state` (stores).
"""
