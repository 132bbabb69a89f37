import Foundation
import GRDB
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing

/// The pipeline writes each batch's alert changes to the audit trail before it hands them to
/// be published. While the audit trail cannot be written (a full disk, a broken connection),
/// alerts are still published and acknowledged, no checkpoint is taken past the changes not
/// yet stored (a restart would not write them again), and they are stored with a later batch
/// once it can be written: none is lost.
@Suite struct AuditTrailTests {
    @Test func changesTheAuditTrailRefusedAreStoredLaterAndNoCheckpointPassesThem() throws {
        let log = CheckpointLog()
        let h = try Harness(logger: log.logger) { config in
            // A checkpoint is due after every batch (the 100 ms ticks make batches).
            config.checkpointEvery = 1
            config.checkpointIntervalMilliseconds = 1
        }
        defer { h.stop() }
        let path = h.directory.path + "/journal.sqlite"
        let other = try OtherProcess(journalPath: path)
        let sub = try h.subscriber(["alert.safety"])
        let dealer = try h.dealer()
        func storedCheckpoint() throws -> Int64 { try JournalInspection.checkpointPosition(journalPath: path) }
        func lastPosition() throws -> Int64 { try other.db.read { try Int64.fetchOne($0, sql: "SELECT MAX(pos) FROM journal") ?? 0 } }

        // Alerts open, and in a checkpoint, before the audit trail fails.
        let open = 60
        for i in 1...open { #expect(try h.peer.ack(dealer, Fixtures.incident(incidentId: "INC-\(i)"))[0] == "ok") }
        let before = try lastPosition()
        #expect(Wait.until(seconds: 60) { ((try? storedCheckpoint()) ?? -1) >= before })
        #expect(log.count("checkpoint failed; will retry") == 0)

        try other.refuseAuditTrail()
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "refused-1", incidentId: "INC-REFUSED"))[0] == "ok")
        // Published all the same (after the alerts of the incidents before it).
        var fingerprints: [String] = []
        while let alert = try sub.receive(within: 30).flatMap(Published.init), let fingerprint = alert.string("fingerprint") {
            fingerprints.append(fingerprint)
            if fingerprint == "safety.incident/INC-REFUSED" { break }
        }
        #expect(fingerprints.last == "safety.incident/INC-REFUSED")
        let position = try #require(
            try other.db.read { try Int64.fetchOne($0, sql: "SELECT pos FROM journal WHERE event_id = 'refused-1'") })
        // Five batches since (ticks), each retrying the audit trail and postponing the
        // checkpoint due after it; none was taken past the change:
        #expect(Wait.until(seconds: 60) { ((try? lastPosition()) ?? 0) >= position + 5 })
        #expect(try h.runtime.history(fingerprint: "safety.incident/INC-REFUSED").isEmpty)
        #expect(try storedCheckpoint() < position, "a checkpoint was stored past an alert change the audit trail did not have")
        #expect(!log.saved.withLock { $0.contains { $0.position >= position } })
        // Said once each, not once per batch (a busy daemon retries hundreds of times a second).
        #expect(log.count("alert history write failed; will retry") == 1)
        #expect(log.count("checkpoint failed; will retry") == 1)

        try other.allowAuditTrail()
        #expect(
            Wait.until(seconds: 60) {
                (try? h.runtime.history(fingerprint: "safety.incident/INC-REFUSED").map(\.change)) == [.fired]
            })
        #expect(Wait.until(seconds: 60) { ((try? storedCheckpoint()) ?? -1) >= position })
        // The checkpoints postponed took nothing: the one that passes the change writes what
        // changed since the last one saved, not every subject again (a city's million classes).
        #expect(Wait.until(seconds: 60) { log.saved.withLock { $0.contains { $0.position >= position } } })
        #expect(log.count("alert history write succeeded again") == 1)
        #expect(Wait.until(seconds: 60) { log.count("checkpoint succeeded again") == 1 })
        let after = log.saved.withLock { $0.filter { $0.position >= position }.map(\.written) }
        #expect(after.allSatisfy { $0 < open / 2 }, "subjects written per checkpoint once the audit trail was back: \(after)")
        // And what comes next is stored as it comes.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "after-1", incidentId: "INC-AFTER"))[0] == "ok")
        #expect(Wait.until(seconds: 60) { (try? h.runtime.history(fingerprint: "safety.incident/INC-AFTER").count) == 1 })
    }

    /// A restart while the audit trail cannot be written comes up all the same (it used to
    /// fail its start on the changes it replays, and a supervisor restarted it in a loop): the
    /// changes wait as a batch's do, and are stored once the audit trail takes them.
    @Test func aRestartWhileTheAuditTrailIsRefusedComesUpAndStoresTheChangesLater() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/journal.sqlite"
        let first = try Harness(directory: directory)
        let other = try OtherProcess(journalPath: path)
        try other.refuseAuditTrail()
        #expect(try first.peer.ack(try first.dealer(), Fixtures.incident(id: "refused-1", incidentId: "INC-RESTART"))[0] == "ok")
        first.stop()

        let log = CheckpointLog()
        let second = try Harness(directory: directory, logger: log.logger)
        defer { second.stop() }
        #expect(try second.runtime.history(fingerprint: "safety.incident/INC-RESTART").isEmpty)
        #expect(log.count("alert history write failed; will retry") == 1)
        try other.allowAuditTrail()
        #expect(
            Wait.until(seconds: 60) {
                (try? second.runtime.history(fingerprint: "safety.incident/INC-RESTART").map(\.change)) == [.fired]
            })
    }
}

/// A second connection to a journal's file, as another process would have: it can make the
/// audit trail refuse its rows (a trigger), as a full disk or a broken database would.
private struct OtherProcess {
    let db: DatabaseQueue

    init(journalPath: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        db = try DatabaseQueue(path: journalPath, configuration: configuration)
    }

    func refuseAuditTrail() throws {
        try db.write {
            try $0.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON alert_history BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        }
    }

    func allowAuditTrail() throws { try db.write { try $0.execute(sql: "DROP TRIGGER refuse") } }
}
