import Foundation
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import PlanWatchWire
import Testing
import ZeroMQ

/// What a hostile producer found, each as it was found: sent to a running daemon, the daemon
/// killed and restarted, and counted from outside.
@Suite struct HostileInputTests {
    static func event(source: String, id: String, seq: Int64? = nil) -> (topic: [UInt8], body: [UInt8]) {
        let base = Fixtures.incident(id: "placeholder", source: "placeholder", incidentId: "INC-H-\(abs(id.hashValue % 1000))")
        guard case .object(var o)? = try? JSONParser.parse(base.body) else { return base }
        o["id"] = .string(id)
        o["source"] = .string(source)
        if let seq { o["seq"] = .integer(seq) }
        return (base.topic, JSONWriter.bytes(.object(o)))
    }

    /// `(source, id)` pairs that a key joined by NUL would confuse, and that SQLite's C API or
    /// PostgreSQL's text would cut or refuse.
    @Test(arguments: JournalBackend.available)
    func nulInSourceOrIdNeitherCollidesNorIsForgottenByARestart(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let daemon = try DaemonProcess(journal: journal, logPath: dir.path + "/d1.log")
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        let first = Self.event(source: "hostile", id: "X\u{0}y")
        let second = Self.event(source: "hostile\u{0}X", id: "y")
        #expect(try peer.ack(dealer, first) == ["ok", "X\u{0}y", ""])
        #expect(try peer.ack(dealer, second)[0] == "ok")
        #expect(try peer.ack(dealer, first)[0] == "duplicate")
        // A rejection whose detail quotes a NUL (PostgreSQL refuses NUL in text) does not fail the batch.
        var bad = String(decoding: Self.event(source: "hostile", id: "bad").body, as: UTF8.self)
        bad = bad.replacingOccurrences(of: "\"traffic\"", with: "\"tra\\u0000ffic\"").replacingOccurrences(of: "\"foodPoisoning\"", with: "\"food\\u0000\"")
        let rejected = try peer.ack(dealer, (Array("safety.incident.370303".utf8), Array(bad.utf8)))
        #expect(rejected[0] == "rejected")
        #expect(try peer.ack(dealer, Self.event(source: "hostile", id: "after"))[0] == "ok")
        try daemon.kill()

        let again = try DaemonProcess(journal: journal, logPath: dir.path + "/d2.log")
        let dealer2 = try peer.dealer(to: again.ack)
        #expect(try peer.ack(dealer2, first)[0] == "duplicate")
        #expect(try peer.ack(dealer2, second)[0] == "duplicate")
        #expect(try again.terminate() == 0)
        let counts = try JournalInspection.eventCounts(journalPath: journal)
        #expect(counts["hostile/X\u{0}y"] == 1)
        #expect(counts["hostile\u{0}X/y"] == 1)
    }

    /// `seq` is a whole number up to 2^53 − 1; `Int64.max` is refused as out of range, before
    /// anything is journaled, and the daemon goes on.
    @Test func aSeqOfInt64MaxIsRejectedAndTheDaemonGoesOn() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        let reply = try peer.ack(dealer, Self.event(source: "anquan", id: "s-max", seq: Int64.max))
        #expect(reply[0] == "rejected")
        #expect(reply[2] == "schemaViolation: seq: 9223372036854775807 is outside 0...9007199254740991")
        #expect(try peer.ack(dealer, Self.event(source: "anquan", id: "s-top", seq: SafeInteger.max))[0] == "ok")
        #expect(try peer.ack(dealer, Self.event(source: "anquan", id: "s-1", seq: 1))[0] == "ok")
        #expect(try peer.ack(dealer, Self.event(source: "anquan", id: "s-3", seq: 3))[0] == "ok")
        #expect(daemon.process.isRunning)
        try daemon.kill()
        let again = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d2.log")
        #expect(try again.terminate() == 0)
    }
}
