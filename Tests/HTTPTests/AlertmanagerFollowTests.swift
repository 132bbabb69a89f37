import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PlanWatchConfig
import PlanWatchModel
import PlanWatchTestSupport
import Testing

@testable import PlanWatchRuntime
@testable import planwatchd

/// The bridge follows the output store through a bounded buffer; a burst of changes larger than
/// it (a thousand alerts resolved in one batch) overruns it. A resolve lost there would leave
/// its alert active in Alertmanager, renewed every interval for ever: the bridge sees the gap
/// in `seq` and reads the store again.
@Suite struct AlertmanagerFollowTests {
    let at = Timestamp(rfc3339: "2026-03-11T12:30:00+08:00")!

    func alert(_ i: Int, _ status: Alert.Status) -> Alert {
        Alert(
            fingerprint: "safety.incident/INC-\(i)", rule: "safety.incident", status: status, level: .red,
            region: RegionCode("370303")!, subject: ["incidentId": "INC-\(i)"], summary: "事件 \(i)", planRef: nil,
            startsAt: at, updatedAt: at, causes: [])
    }

    @Test func aFollowerOverrunByABurstOfResolvesReadsTheStoreAgainAndEndsThem() async throws {
        let store = OutputStore()
        var seq: Int64 = 0
        func message(_ meta: OutboundMessage.Meta, topic: String) -> OutboundMessage {
            seq += 1
            return OutboundMessage(topic: topic, seq: seq, meta: meta)
        }
        let fired = (1...10).map { alert($0, .firing) }
        store.apply(fired.map { message(.alert($0), topic: $0.topic) })
        let book = Book(settings: AlertmanagerSettings(urls: [URL(string: "http://127.0.0.1:9")!]))
        _ = await book.match(fired.map(AlertmanagerBridge.Parsed.init), now: Date())
        #expect(await book.activeCount == 10)

        // Then, before the bridge reads on: the ten resolved, and 1,500 indicator updates.
        let stream = store.follow()
        store.apply((1...10).map { message(.alert(alert($0, .resolved)), topic: alert($0, .resolved).topic) })
        store.apply(
            (1...1_500).map { i in
                let update = IndicatorUpdate(
                    indicator: "safety.open_incidents", scope: .district, region: RegionCode("370303")!, value: Double(i),
                    numerator: Int64(i), denominator: nil, asOf: at)
                return message(.indicator(update), topic: update.topic)
            })
        store.finishFollowers()

        let metrics = BridgeMetrics(urls: [])
        await AlertmanagerBridge.follow(stream, of: store, into: book, metrics: metrics, synced: 10, wake: {})
        #expect(await book.activeCount == 0, "the resolves the follower dropped were not made up for")
        #expect(store.firingAlerts.isEmpty)
    }
}

/// The console's live stream, overrun the same way, tells the browser to read the current
/// alerts and indicators again (the console does on `resync`), after the last output it sent.
@Suite struct LiveStreamGapTests {
    @Test(.timeLimit(.minutes(1))) func aLiveStreamThatSkippedOutputsTellsTheBrowserToResync() async throws {
        let runtime = Runtime(config: RuntimeConfig(), handlers: [], logger: Logger(label: "live-stream-tests"))
        let store = runtime.outputs
        let router = Router(context: OperatorContext.self)
        LiveController(outputs: store).register(on: router)
        let at = Timestamp(rfc3339: "2026-03-11T12:30:00+08:00")!
        @Sendable func updates(_ seqs: ClosedRange<Int64>) -> [OutboundMessage] {
            seqs.map { seq in
                let update = IndicatorUpdate(
                    indicator: "safety.open_incidents", scope: .district, region: RegionCode("370303")!, value: Double(seq),
                    numerator: seq, denominator: nil, asOf: at)
                return OutboundMessage(topic: update.topic, seq: seq, meta: .indicator(update))
            }
        }
        try await Application(router: router).test(.router) { client in
            async let response = client.execute(uri: "/events", method: .get) { String(buffer: $0.body) }
            _ = try await Wait.suspendingUntil(seconds: 30) { store.followerCount > 0 }
            #expect(store.followerCount == 1, "the stream did not start following")
            store.apply(updates(1...1))
            // A burst far larger than the follower's buffer of 1,000, in one batch.
            store.apply(updates(2...20_000))
            store.finishFollowers()
            let body = try await response
            let ids = body.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
            #expect(ids.count < 20_000, "nothing was dropped: the test did not overrun the stream")
            #expect(body.contains("event: resync\ndata: {\"after\":\""), "\(body.prefix(300))")
            #expect(ids.last == 20_000)
        }
    }
}
