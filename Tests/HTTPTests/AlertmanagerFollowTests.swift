import Foundation
import PlanWatchConfig
import PlanWatchModel
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
