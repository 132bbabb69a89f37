/// Everything the runtime needs to know; `planwatchd` fills it from YAML and flags.
public struct RuntimeConfig: Sendable {
    /// SUB endpoints the daemon binds for fire-and-forget ingest.
    public var ingestBind: [String] = ["tcp://127.0.0.1:5550"]
    /// Producers' PUB endpoints the daemon connects its SUB to.
    public var ingestConnect: [String] = []
    /// Topic prefixes the SUB subscribes to (`""`: everything).
    public var ingestTopics: [String] = [""]
    /// ROUTER endpoints for acknowledged ingest.
    public var ackBind: [String] = ["tcp://127.0.0.1:5551"]
    /// PUB endpoints for alerts, indicators and dead letters.
    public var publishBind: [String] = ["tcp://127.0.0.1:5560"]
    /// The SQLite journal file.
    public var journalPath: String = "var/planwatch.sqlite"
    /// `FULL` survives power loss; `NORMAL` survives a crash of the process.
    public var synchronousFull: Bool = true
    /// The largest event body accepted, in bytes.
    public var maxBodyBytes: Int = 65_536
    /// The most events one journal transaction holds.
    public var maxBatch: Int = 500
    /// Events accepted but not yet journaled, at most; past it the ROUTER answers `busy`.
    public var queueCapacity: Int = 20_000
    /// Per-peer queue limits of the ingest and publish sockets.
    public var receiveHighWaterMark: Int32 = 100_000
    public var sendHighWaterMark: Int32 = 100_000
    /// How often the clock ticks reach the handlers, in milliseconds.
    public var tickIntervalMilliseconds: Int = 1_000
    /// A checkpoint after this many journal entries…
    public var checkpointEvery: Int = 10_000
    /// …or after this many milliseconds with anything new.
    public var checkpointIntervalMilliseconds: Int = 60_000

    /// How long journal entries are kept, in milliseconds (0: for ever). Entries are deleted
    /// only up to a checkpoint older than this, so the journal holds between one and two
    /// retention periods, and duplicates are recognised for at least one.
    public var retentionMilliseconds: Int64 = 7 * 24 * 3_600_000

    /// What "now" is for the handlers.
    public var clock: ClockMode = .wall

    public init() {}
}

/// Where the handlers' notion of time comes from. Either way it is journaled, so a replay
/// gives the same outputs.
public enum ClockMode: String, Sendable, CaseIterable {
    /// The time the daemon received the event, and ticks of the wall clock: for production.
    case wall
    /// The latest `occurredAt` seen (the event-time watermark): for replaying history and
    /// for simulations played in accelerated time.
    case event
}

/// The endpoints the runtime actually bound (wildcard ports resolved).
public struct BoundEndpoints: Sendable, Equatable {
    public var ingest: [String]
    public var ack: [String]
    public var publish: [String]
}
