// HandlerKit re-exports the contract's types a handler reads and writes: events and their
// payloads, alerts, indicator updates, regions, dates. A handler module imports only HandlerKit.
@_exported import PlanWatchModel
