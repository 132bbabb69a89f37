import HandlerKit
import PlanWatchModel
import Synchronization

/// Everything the runtime needs to know; `planwatchd` fills it from YAML and flags.
public struct RuntimeConfig: Sendable {
    /// SUB endpoints the daemon binds for fire-and-forget ingest.
    public var ingestBind: [String] = ["tcp://127.0.0.1:5550"]
    /// Producers' PUB endpoints the daemon connects its SUB to.
    public var ingestConnect: [String] = []
    /// Topic prefixes the SUB subscribes to (`""`: everything).
    public var ingestTopics: [String] = [""]
    /// Region prefixes this daemon owns, e.g. `["3703"]` (a shard of the bus): the SUB then
    /// subscribes to `<type>.<prefix>` for every event type it knows, plus any non-empty
    /// ``ingestTopics``.
    public var ingestRegions: [String] = []
    /// Also ingest other daemons' indicator updates (`indicator.<id>.<region>`) and roll
    /// their cities up to the province.
    public var acceptsIndicators = false
    /// ROUTER endpoints for acknowledged ingest.
    public var ackBind: [String] = ["tcp://127.0.0.1:5551"]
    /// PUB endpoints for alerts, indicators and dead letters.
    public var publishBind: [String] = ["tcp://127.0.0.1:5560"]
    /// Endpoints the PUB connects to as well, e.g. the frontend of `planwatch proxy`.
    public var publishConnect: [String] = []
    /// ROUTER endpoints for late joiners' snapshots.
    public var snapshotBind: [String] = ["tcp://127.0.0.1:5561"]
    /// The journal: a SQLite file, or a `postgres://` URL.
    public var journalPath: String = "var/planwatch.sqlite"
    /// Where the daemon keeps local files besides a SQLite journal: the crash guard of a
    /// PostgreSQL journal (``crashGuardPath``).
    public var stateDirectory: String = "var"
    /// How long a daemon whose PostgreSQL connection broke waits to take its writer lock back
    /// (its old session may linger on the server) before it stops, non-zero, for its
    /// supervisor to start it again as a standby.
    public var journalLockWaitSeconds: Double = 30
    /// `FULL` survives power loss; `NORMAL` survives a crash of the process.
    public var synchronousFull: Bool = true
    /// The largest event body accepted, in bytes.
    public var maxBodyBytes: Int = 65_536
    /// The most events one journal transaction holds.
    public var maxBatch: Int = 500
    /// Events accepted but not yet journaled, at most; past it the ROUTER answers `busy`.
    public var queueCapacity: Int = 20_000
    /// Per-peer queue limit of the ingest sockets, in messages.
    public var receiveHighWaterMark: Int32 = 100_000
    /// Per-subscriber queue limit of the output PUB, in messages: what a subscriber that stops
    /// reading costs at most (about 1 KiB each; dead letters up to 5 KiB). Past it that
    /// subscriber misses messages (counted in `planwatch_publish_subscriber_drops_total`).
    public var sendHighWaterMark: Int32 = 10_000
    /// Per-peer queue limit of the snapshot ROUTER, in messages; a longer reply waits and is
    /// sent as the peer reads.
    public var snapshotSendHighWaterMark: Int32 = 10_000
    /// Per-producer queue limit of the acknowledged-ingest ROUTER's replies, in messages
    /// (a producer that never reads its replies costs at most this many).
    public var ackSendHighWaterMark: Int32 = 100_000
    /// How often the clock ticks reach the handlers, in milliseconds.
    public var tickIntervalMilliseconds: Int = 1_000
    /// A checkpoint after this many journal entries…
    public var checkpointEvery: Int = 100_000
    /// …or after this many milliseconds with anything new.
    public var checkpointIntervalMilliseconds: Int = 60_000

    /// How long journal entries are kept, in milliseconds (0: for ever). Entries are deleted
    /// only up to a checkpoint older than this, so the journal holds between one and two
    /// retention periods, and duplicates are recognised for at least one.
    public var retentionMilliseconds: Int64 = 7 * 24 * 3_600_000

    /// CURVE encryption and the ZAP allow-list; nil: plain ZeroMQ.
    public var curve: CurveConfig?
    /// Without CURVE, binding anything but loopback is refused unless this is set.
    public var allowPlaintext = false

    /// What "now" is for the handlers.
    public var clock: ClockMode = .wall

    /// Working days and holidays, for deadlines and escalation limits in working days.
    public var calendar = WorkCalendar()
    /// Deadlines of rules, where the deployment changes DOMAIN.md's (`rules.<rule>.deadlines`).
    public var timings = RuleTimings()
    /// Who owns each rule's alerts and how long they have to acknowledge, where the deployment
    /// changes what the handlers declare (`rules.<rule>.owner`, `.ackWithin`).
    public var alertPolicy = AlertPolicy()
    /// The plans whose targets judge the handlers' indicators.
    public var plans = PlanSet()

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

extension RuntimeConfig {
    /// The file the ``CrashGuard`` maps: beside a SQLite journal; for a PostgreSQL journal, in
    /// ``stateDirectory``, named after the database (each daemon host keeps its own).
    var crashGuardPath: String {
        guard JournalStore.isPostgres(journalPath) else { return journalPath + ".crash" }
        let name = String(CrashGuard.hash(journalPath), radix: 16)
        return "\(stateDirectory)/planwatch-postgres-\(name).crash"
    }

    /// What the ingest SUB subscribes to, given the event types the daemon knows.
    func subscriptions(knownTypes: [String]) -> [String] {
        guard !ingestRegions.isEmpty else { return ingestTopics }
        var topics = knownTypes.flatMap { type in ingestRegions.map { "\(type).\($0)" } }
        if acceptsIndicators { topics.append("indicator.") }
        return topics + ingestTopics.filter { !$0.isEmpty }
    }

    /// Refuses what cannot work or must not be exposed, saying what to do instead. ``Runtime/start()``
    /// runs it, and so does `planwatch check-config`.
    public func validate() throws {
        let ranges: [(key: String, value: Int, range: ClosedRange<Int>)] = [
            ("ingest.maxBodyBytes", maxBodyBytes, 1...(64 << 20)),
            ("ingest.receiveHighWaterMark", Int(receiveHighWaterMark), 0...Int(Int32.max)),
            ("publish.sendHighWaterMark", Int(sendHighWaterMark), 0...Int(Int32.max)),
            ("snapshot.sendHighWaterMark", Int(snapshotSendHighWaterMark), 0...Int(Int32.max)),
            ("ack.sendHighWaterMark", Int(ackSendHighWaterMark), 0...Int(Int32.max)),
            ("pipeline.maxBatch", maxBatch, 1...100_000),
            ("pipeline.queueCapacity", queueCapacity, 1...100_000_000),
            ("pipeline.tickIntervalMs (--tick-interval-ms)", tickIntervalMilliseconds, 1...3_600_000),
            ("pipeline.checkpointEvery", checkpointEvery, 1...100_000_000),
            ("pipeline.checkpointIntervalMs", checkpointIntervalMilliseconds, 1...86_400_000),
        ]
        for (key, value, range) in ranges where !range.contains(value) {
            throw RuntimeError(description: "\(key) must be \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        guard retentionMilliseconds >= 0 else {
            throw RuntimeError(description: "the retention must be 0 (keep for ever) or more, not \(retentionMilliseconds) ms")
        }
        guard journalLockWaitSeconds > 0, journalLockWaitSeconds <= 3600 else {
            throw RuntimeError(description: "storage.lockWaitSeconds must be more than 0 and at most 3600, not \(journalLockWaitSeconds)")
        }
        if curve != nil && !publishConnect.isEmpty {
            throw RuntimeError(
                description: "publish.connect cannot be combined with curve: the PUB would connect as a CURVE server. "
                    + "Run the proxy on a trusted network (allowPlaintext) or publish on bound endpoints only")
        }
        let exposed = exposedEndpoints
        if curve == nil && !exposed.isEmpty && !allowPlaintext {
            throw RuntimeError(
                description: "refusing to bind \(exposed.joined(separator: ", ")) without CURVE: the bus carries pupils' records. "
                    + "Configure curve (see planwatch keygen), bind loopback only, or set allowPlaintext: true")
        }
    }

    /// True for a host (or ZeroMQ interface) that only this machine reaches.
    public static func isLoopback(_ host: String) -> Bool {
        host.hasPrefix("127.") || host == "localhost" || host == "::1" || host == "[::1]" || host == "lo"
    }

    /// The endpoints bound or connected to on something other than loopback (or ipc/inproc).
    var exposedEndpoints: [String] {
        (ingestBind + ingestConnect + ackBind + publishBind + publishConnect + snapshotBind).filter { endpoint in
            guard endpoint.hasPrefix("tcp://") else { return false }
            let host = endpoint.dropFirst(6).split(separator: ":").dropLast().joined(separator: ":")
            return !Self.isLoopback(host)
        }
    }
}

/// Counters the runtime keeps while it runs.
public final class RuntimeStats: Sendable {
    private let zapDeniedCount = Atomic<Int>(0)
    private let journalFailingFlag = Atomic<Bool>(false)
    private let eventClock = Atomic<Int64>(0)
    /// The event-time watermark (the latest `occurredAt` handled), in epoch milliseconds; 0
    /// before any event. The handlers' "now" under the event clock.
    public var watermark: Int64 { eventClock.load(ordering: .relaxed) }
    func setWatermark(_ milliseconds: Int64) { eventClock.store(milliseconds, ordering: .relaxed) }
    /// True while the last journal write failed (a full disk, a lost database, a lost writer
    /// lock): nothing is being accepted.
    public var journalFailing: Bool { journalFailingFlag.load(ordering: .relaxed) }
    func journalWrite(succeeded: Bool) { journalFailingFlag.store(!succeeded, ordering: .relaxed) }
    /// CURVE handshakes refused because the client's key is not allowed.
    public var zapDenied: Int { zapDeniedCount.load(ordering: .relaxed) }
    func countZapDenied() {
        zapDeniedCount.add(1, ordering: .relaxed)
        IngestMetrics.zapDenied.increment()
    }
}

/// The endpoints the runtime actually bound (wildcard ports resolved).
public struct BoundEndpoints: Sendable, Equatable {
    public var ingest: [String]
    public var ack: [String]
    public var publish: [String]
    public var snapshot: [String]
}

/// Every ZeroMQ endpoint of the daemon as a CURVE server; only listed client keys get in.
public struct CurveConfig: Sendable {
    /// A client allowed in: its name (the ZAP User-Id), key, and the topic prefixes it may
    /// publish (empty: it may only subscribe).
    public struct Client: Sendable, Equatable {
        public var name: String
        public var publicKey: String
        public var publish: [String]
        public init(name: String, publicKey: String, publish: [String]) {
            self.name = name
            self.publicKey = publicKey
            self.publish = publish
        }
    }

    public var secretKey: String
    public var clients: [Client]

    public init(secretKey: String, clients: [Client]) {
        self.secretKey = secretKey
        self.clients = clients
    }

    /// The client with this public key, if allowed.
    func client(publicKey: String) -> Client? { clients.first { $0.publicKey == publicKey } }

    /// The client named `name`, if allowed.
    func client(named name: String) -> Client? { clients.first { $0.name == name } }

    /// Why the sender `userId` (its ZAP User-Id) may not publish `topic`; nil if it may.
    func authorize(_ topic: [UInt8], userId: String?) -> Rejection? {
        let text = String(decoding: topic.prefix(256), as: UTF8.self)
        guard let name = userId, let client = client(named: name) else {
            return Rejection(.unauthorized, "the sender is not an allowed client (topic \(text))")
        }
        guard client.publish.contains(where: { topic.starts(with: $0.utf8) }) else {
            let allowed = client.publish.isEmpty ? "nothing (subscribe only)" : "only " + client.publish.joined(separator: ", ")
            return Rejection(.unauthorized, "client '\(name)' may publish \(allowed); topic \(text)")
        }
        return nil
    }
}
