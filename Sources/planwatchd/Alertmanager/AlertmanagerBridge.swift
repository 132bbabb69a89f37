import DequeModule
import Foundation
import PlanWatchConfig
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import Logging
import Metrics
import PlanWatchModel
import PlanWatchRuntime
import ServiceLifecycle

/// Posts alerts to Prometheus Alertmanager's API v2 the way Prometheus' own notifier does, so
/// a bureau routes them with the tool its operators already use:
/// - a firing alert carries an `endsAt` lease (four resend intervals) and is sent again every
///   interval, so Alertmanager ends it by itself if planwatchd goes away;
/// - a level is a label, so a level change is a new label set: the old one is ended (sent with
///   `endsAt` now) in the same batch as the new one, leaving exactly one active;
/// - ended label sets are sent again on every interval for `resolvedRetention`, so a resolve
///   that met an unreachable Alertmanager still arrives after the outage;
/// - alerts go through one bounded queue (the oldest dropped, and counted, when full), in
///   batches, to every Alertmanager of an HA pair at once, each request with a timeout; a 4xx
///   answer is logged and not retried (the request is wrong, sending it again will not help).
struct AlertmanagerBridge: Service {
    typealias Settings = AlertmanagerSettings

    let settings: Settings
    let store: OutputStore
    let logger: Logger

    func run() async throws {
        let book = Book(settings: settings)
        let metrics = BridgeMetrics(urls: settings.urls)
        let (wake, waker) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let stream = store.follow()
        let settings = settings
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // What fires once the runtime's start has restored the store (a restart's firing
                // alerts come from its checkpoint, published before it), then every change as
                // it is published.
                await store.restoredOrStopped()
                await Self.follow(stream, of: store, into: book, metrics: metrics, wake: { waker.yield() })
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(settings.resendSeconds * 1_000_000_000))
                    if Task.isCancelled { break }
                    metrics.dropped.increment(by: await book.renew(now: Date()))
                    waker.yield()
                }
            }
            group.addTask {
                for await _ in wake {
                    while let batch = await book.take(settings.batchSize) {
                        metrics.queueLength.record(await book.queued)
                        await send(batch, metrics: metrics)
                    }
                    metrics.queueLength.record(0)
                }
            }
            await group.next()  // the stream ended: the runtime stopped
            group.cancelAll()
        }
        // The runtime stops first; this service ends when the group asks it to.
        try? await gracefulShutdown()
    }

    /// Takes what fires in `store` now (unless the book matches it already, as of `synced`),
    /// then each change `follower` brings. When the follower missed changes (a lost resolve
    /// would leave its alert active in Alertmanager, renewed for ever), the store is read again
    /// and the book made to match it; what the follower still brings from before that reading
    /// is skipped.
    static func follow(
        _ follower: OutputStore.Follower, of store: OutputStore, into book: Book, metrics: BridgeMetrics,
        synced: Int64? = nil, wake: @Sendable () -> Void
    ) async {
        func resync() async -> Int64 {
            let (entries, through) = store.snapshot(prefix: "alert.")
            metrics.dropped.increment(by: await book.match(entries.compactMap { $0.alert.map(Parsed.init) }, now: Date()))
            wake()
            return through
        }
        var changes = follower.makeAsyncIterator()
        if let synced { changes.skip(through: synced) } else { changes.skip(through: await resync()) }
        while let next = await changes.next() {
            switch next {
            case .missed:
                metrics.resyncs.increment()
                changes.skip(through: await resync())
            case .output(let entry):
                guard let a = entry.alert.map(Parsed.init) else { continue }
                metrics.dropped.increment(by: await book.apply(a, now: Date()))
                wake()
            }
        }
    }

    /// Posts one batch to every Alertmanager at once.
    private func send(_ batch: [AMAlert], metrics: BridgeMetrics) async {
        let body = Data(JSONWriter.bytes(.array(batch.map(\.json))))
        await withTaskGroup(of: Void.self) { group in
            for (i, url) in settings.urls.enumerated() {
                group.addTask {
                    var request = URLRequest(url: url.appendingPathComponent("api/v2/alerts"))
                    request.httpMethod = "POST"
                    request.timeoutInterval = settings.timeoutSeconds
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.setValue("planwatchd", forHTTPHeaderField: "User-Agent")
                    request.httpBody = body
                    do {
                        let (data, response) = try await URLSession.shared.data(for: request)
                        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                        if (200..<300).contains(status) {
                            metrics.sent[i].increment(by: batch.count)
                        } else {
                            metrics.errors[i].increment()
                            // 4xx: this request is wrong; sending it again cannot help. 5xx: the
                            // next interval sends every firing and recently ended alert anyway.
                            logger.log(
                                level: (400..<500).contains(status) ? .error : .warning, "alertmanager refused alerts",
                                metadata: [
                                    "alertmanager": "\(url)", "status": "\(status)", "alerts": "\(batch.count)",
                                    "answer": "\(String(decoding: data.prefix(300), as: UTF8.self))",
                                ])
                        }
                    } catch {
                        metrics.errors[i].increment()
                        logger.warning("alertmanager unreachable", metadata: ["alertmanager": "\(url)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// The fields of a published alert the bridge needs, from the typed alert the store keeps.
    struct Parsed: Equatable {
        var fingerprint: String
        var rule: String
        var firing: Bool
        var level: String
        var region: String
        var summary: String
        var planRef: String
        var owner: String?
        var startsAt: String
        var endsAt: String?

        init(_ a: Alert) {
            fingerprint = a.fingerprint
            rule = a.rule
            firing = a.status == .firing
            level = a.level.rawValue
            region = a.region.code
            summary = a.summary
            planRef = a.planRef ?? ""
            owner = a.owner
            startsAt = AlertmanagerBridge.utc(a.startsAt)
            endsAt = AlertmanagerBridge.utc(a.endsAt ?? a.updatedAt)
        }
    }

    /// RFC 3339 in UTC, as Alertmanager writes it back.

    static func utc(_ t: Timestamp) -> String { Timestamp(epochMilliseconds: t.epochMilliseconds, offsetMinutes: 0).description }

    static func utc(_ date: Date) -> String { utc(Timestamp(epochMilliseconds: Int64(date.timeIntervalSince1970 * 1000))) }
}

/// One alert as Alertmanager's API v2 takes it.
struct AMAlert: Sendable, Equatable {
    var labels: [String: String]
    var annotations: [String: String]
    var startsAt: String
    var endsAt: String
    var generatorURL: String

    var json: JSONValue {
        .object(
            JSONObject([
                ("labels", .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
                ("annotations", .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
                ("startsAt", .string(startsAt)), ("endsAt", .string(endsAt)), ("generatorURL", .string(generatorURL)),
            ]))
    }

    /// Alertmanager's identity of an alert: its label set.
    var identity: String { labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1}") }
}

/// What the bridge has sent and still owes: the active label set of every firing alert, the
/// label sets ended recently, and the queue of alerts to send.
actor Book {
    let settings: AlertmanagerBridge.Settings
    private var active: [String: AMAlert] = [:]
    private var ended: [String: (alert: AMAlert, until: Date)] = [:]
    private var queue = Deque<AMAlert>()

    init(settings: AlertmanagerBridge.Settings) { self.settings = settings }

    var queued: Int { queue.count }

    /// Takes one published alert change; returns how many queued alerts were dropped.
    func apply(_ a: AlertmanagerBridge.Parsed, now: Date) -> Int {
        var dropped = 0
        let previous = active[a.fingerprint]
        if let previous, !a.firing || previous.labels["level"] != a.level {
            // Resolved, or a new level (a new label set): the old one ends now.
            active[a.fingerprint] = nil
            dropped += end(previous, at: a.firing ? AlertmanagerBridge.utc(now) : (a.endsAt ?? AlertmanagerBridge.utc(now)), now: now)
        }
        if a.firing {
            var alert = make(a)
            alert.endsAt = lease(now)
            active[a.fingerprint] = alert
            ended[alert.identity] = nil
            dropped += enqueue(alert)
        } else if previous == nil {
            // Resolved without a firing seen here (fired and resolved at once, or before start).
            dropped += end(make(a), at: a.endsAt ?? AlertmanagerBridge.utc(now), now: now)
        }
        return dropped
    }

    /// Ends `alert`'s label set at `endsAt`: queued now, and sent again every interval for
    /// `resolvedRetention`. Returns how many queued alerts were dropped.
    private func end(_ alert: AMAlert, at endsAt: String, now: Date) -> Int {
        var end = alert
        end.endsAt = endsAt
        ended[end.identity] = (end, now.addingTimeInterval(settings.resolvedRetentionSeconds))
        return enqueue(end)
    }

    /// Makes the active alerts those of `firing` (what the store holds): each that is new or
    /// changed is applied, each active one no longer there ends now. Returns how many queued
    /// alerts were dropped.
    func match(_ firing: [AlertmanagerBridge.Parsed], now: Date) -> Int {
        var dropped = 0
        var still = Set<String>()
        for a in firing where a.firing {
            still.insert(a.fingerprint)
            var made = make(a)
            made.endsAt = active[a.fingerprint]?.endsAt ?? ""
            if active[a.fingerprint] != made { dropped += apply(a, now: now) }
        }
        for (fingerprint, previous) in active where !still.contains(fingerprint) {
            active[fingerprint] = nil
            dropped += end(previous, at: AlertmanagerBridge.utc(now), now: now)
        }
        return dropped
    }

    /// How many alerts are active (sent as firing, not ended since).
    var activeCount: Int { active.count }

    /// Every interval: the firing alerts again with a new lease, and the recently ended ones.
    func renew(now: Date) -> Int {
        var dropped = 0
        for key in active.keys.sorted() {
            active[key]?.endsAt = lease(now)
            if let alert = active[key] { dropped += enqueue(alert) }
        }
        for key in ended.keys.sorted() {
            guard let e = ended[key] else { continue }
            if e.until < now { ended[key] = nil } else { dropped += enqueue(e.alert) }
        }
        return dropped
    }

    /// Up to `count` alerts from the queue, oldest first; nil when it is empty.
    func take(_ count: Int) -> [AMAlert]? {
        guard !queue.isEmpty else { return nil }
        let n = min(count, queue.count)
        defer { queue.removeFirst(n) }
        return Array(queue.prefix(n))
    }

    private func enqueue(_ alert: AMAlert) -> Int {
        queue.append(alert)
        guard queue.count > settings.queueCapacity else { return 0 }
        let over = queue.count - settings.queueCapacity
        queue.removeFirst(over)
        return over
    }

    private func lease(_ now: Date) -> String { AlertmanagerBridge.utc(now.addingTimeInterval(4 * settings.resendSeconds)) }

    private func make(_ a: AlertmanagerBridge.Parsed) -> AMAlert {
        var annotations = ["summary": a.summary, "planRef": a.planRef]
        if let owner = a.owner { annotations["owner"] = owner }
        let base = settings.externalURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
        let query = a.fingerprint.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? a.fingerprint
        return AMAlert(
            labels: [
                "alertname": a.rule, "rule": a.rule, "level": a.level, "region": a.region,
                "domain": String(a.rule.prefix { $0 != "." }), "fingerprint": a.fingerprint,
            ],
            annotations: annotations, startsAt: a.startsAt, endsAt: "", generatorURL: base + "/?fingerprint=" + query)
    }
}

extension CharacterSet {
    /// What a query value may hold unescaped (not `&`, `=`, `+`, `#`).
    static let urlQueryValueAllowed: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.remove(charactersIn: "&=+#")
        return set
    }()
}

/// The bridge's metrics, created at start so every series exists at 0.
struct BridgeMetrics: Sendable {
    let sent: [Counter]
    let errors: [Counter]
    let dropped = Counter(label: "planwatch_alertmanager_alerts_dropped_total")
    /// Times the bridge read the store again because its follower had dropped changes.
    let resyncs = Counter(label: "planwatch_alertmanager_resyncs_total")
    let queueLength = Gauge(label: "planwatch_alertmanager_queue_length")

    init(urls: [URL]) {
        sent = urls.map { Counter(label: "planwatch_alertmanager_alerts_sent_total", dimensions: [("alertmanager", $0.absoluteString)]) }
        errors = urls.map { Counter(label: "planwatch_alertmanager_errors_total", dimensions: [("alertmanager", $0.absoluteString)]) }
        for c in sent + errors + [dropped, resyncs] { c.increment(by: 0) }
        queueLength.record(0)
    }
}
