/// Another daemon's indicator updates as inbound events, for a daemon that rolls cities up
/// to their province (`planwatchd --ingest-indicators`).
///
/// A message `[indicator.<id>.<region>, body]` with CONTRACT.md's indicator body becomes an
/// event of type ``type`` whose payload is that body, so that it is journaled, deduplicated
/// and replayed like any event: its source is `indicator/<region>`, its id
/// `<id>/<seq>/<asOf in ms>` (a daemon that re-publishes after a crash repeats both), and it
/// occurred at `asOf`.
public enum IndicatorFeed {
    /// The event type the updates arrive as.
    public static let type = "indicator.update"

    /// True when `topic` is an indicator topic.
    public static func matches(_ topic: [UInt8]) -> Bool { topic.starts(with: "indicator.".utf8) }
}
