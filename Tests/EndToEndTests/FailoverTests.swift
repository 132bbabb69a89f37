import Foundation
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// PostgreSQL storage outlives a host: a second daemon on the same database stands by and
/// takes over, with its state, its dedupe and its `seq`, when the first one is killed.
@Suite struct FailoverTests {
    @Test(.enabled(if: JournalBackend.postgresURL != nil, "needs PLANWATCH_POSTGRES_URL (bash .ci/test starts PostgreSQL)"))
    func aStandbyTakesOverTheSameDatabaseWhenThePrimaryIsKilled() throws {
        let dir = TemporaryDirectory()
        let journal = try JournalBackend.postgres.makeJournal(in: dir)
        let peer = Peer()
        let primary = try DaemonProcess(journal: journal, logPath: dir.path + "/primary.log")
        // Same ports: the standby binds nothing until it holds the journal.
        let standby = try DaemonProcess(
            journal: journal, logPath: dir.path + "/standby.log", endpoints: primary.endpoints, waitForReady: false)
        #expect(Wait.until(seconds: 60) { standby.log.contains("standing by") }, "\(standby.log)")

        let sub = try peer.subscriber(to: primary.publish, prefixes: ["alert.safety"], probeAck: primary.ack)
        let dealer = try peer.dealer(to: primary.ack)
        for i in 0..<200 {
            #expect(try peer.ack(dealer, Fixtures.incident(id: "fo-\(i)", incidentId: "INC-FO\(i)"))[0] == "ok")
        }
        var highestBefore: Int64 = 0
        while let frames = try sub.receive(within: 1), let p = Published(frames) { highestBefore = max(highestBefore, p.seq) }
        #expect(highestBefore > 0)

        try primary.kill()
        try standby.waitUntilReady(seconds: 60)

        // What the primary acknowledged is known to the standby: every one is a duplicate.
        for i in 0..<200 {
            #expect(try peer.ack(dealer, Fixtures.incident(id: "fo-\(i)", incidentId: "INC-FO\(i)"), within: 60)[0] == "duplicate")
        }
        // Its state carried over: resolving an incident the primary saw resolves its alert,
        // numbered after everything the primary published.
        sub.close()
        let after = try peer.subscriber(to: standby.publish, prefixes: ["alert.safety"], probeAck: standby.ack)
        #expect(try peer.ack(dealer, Fixtures.incident(id: "fo-resolve", incidentId: "INC-FO7", status: "resolved"))[0] == "ok")
        let resolved = try #require(
            try after.receive(within: 60) { Published($0)?.string("fingerprint") == "safety.incident/INC-FO7" && Published($0)?.string("status") == "resolved" })
        #expect(try #require(Published(resolved)).seq > highestBefore)
        #expect(try standby.terminate() == 0)

        let counts = try JournalInspection.eventCounts(journalPath: journal)
        #expect(counts.count == 201)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }
}
