import Foundation
import GRDB
import PlanWatchModel
@testable import PlanWatchRuntime
import PlanWatchTestSupport
import PlanWatchWire
import Testing

/// What the pipeline appends comes back from the journal as it was written: a replay and a
/// restart read these rows, so a column bound wrong is an event lost or changed for good.
@Suite struct JournalAppendTests {
    static let at = Timestamp(epochMilliseconds: 1_773_200_000_000)

    /// An event, a tick (no topic, no body), dead letters (bytes that are not UTF-8, a detail
    /// with NUL, 64 KiB of random bytes), in one batch and then another.
    static func entries() throws -> [JournalEntry] {
        let incident = Fixtures.incident(id: "学校-事件-1", source: "anquan")
        let event = try EventDecoder().decode(topic: incident.topic, body: incident.body).get()
        var generator = SystemRandomNumberGenerator()
        let large = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return [
            .event(event, topic: incident.topic, body: incident.body, receivedAt: at),
            .tick(at: Timestamp(epochMilliseconds: at.epochMilliseconds + 1)),
            .rejected(
                Rejection(.malformedJson, "not UTF-8 at byte 1"), topic: Array("safety.incident.370303".utf8), body: [0x7B, 0xFF, 0x00, 0xFE],
                receivedAt: at),
            .rejected(Rejection(.schemaViolation, "field id: a\u{0}b"), topic: [], body: [0x00], receivedAt: at),
            .rejected(Rejection(.tooLarge, "body of 65536 bytes"), topic: incident.topic, body: large, receivedAt: at),
        ]
    }

    /// What the journal gives back for `entry`: its position, and NUL in text as U+FFFD (both
    /// stores keep text so; PostgreSQL's text cannot hold NUL).
    static func asStored(_ entry: JournalEntry, at position: Int64) -> JournalEntry {
        var stored = entry
        stored.position = position
        stored.detail = JournalSpec.text(entry.detail)
        return stored
    }

    @Test(arguments: JournalBackend.available)
    func everyKindOfEntryComesBackAsItWasAppended(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try JournalStore.open(try backend.makeJournal(in: dir), role: .writer)
        defer { journal.close() }
        let written = try Self.entries()
        let first = try journal.append(written, publishedThrough: 0)
        let second = try journal.append(written, publishedThrough: 5)
        let positions = (first + second).map(\.position)
        #expect(positions == Array(1...Int64(2 * written.count)))

        var read: [JournalEntry] = []
        try journal.forEachEntry(after: 0) { read.append($0) }
        #expect(read.count == 2 * written.count)
        for (index, entry) in read.enumerated() {
            #expect(entry == Self.asStored(written[index % written.count], at: Int64(index + 1)))
        }
        #expect(read[1].topic.isEmpty && read[1].body.isEmpty && read[1].key == nil)
        #expect(try journal.publishedThrough == 5)
    }

    /// PostgreSQL: a batch may land while its COMMIT's answer is lost (the server ends the
    /// session). The next batch must go after it — not at the positions the writer knew before,
    /// where it collided with that batch and was taken for it: answered ok, never journaled.
    @Test func aBatchAfterOneThatLandedUnheardGoesAfterItAndIsRecorded() throws {
        guard JournalBackend.postgresURL != nil else { return }
        let dir = TemporaryDirectory()
        let url = try JournalBackend.postgres.makeJournal(in: dir)
        let journal = try JournalStore.open(url, role: .writer)
        defer { journal.close() }
        func psql(_ sql: String) throws {
            let result = try run("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql])
            guard result.status == 0 else { throw TestFailure("psql: \(result.stderr)") }
        }
        let event = { (id: String) in
            let m = Fixtures.incident(id: id, source: "unheard")
            return JournalEntry.event(try EventDecoder().decode(topic: m.topic, body: m.body).get(), topic: m.topic, body: m.body, receivedAt: Self.at)
        }
        #expect(try journal.append([event("a-1"), event("a-2"), event("a-3")], publishedThrough: 0).map(\.position) == [1, 2, 3])

        // A batch at 4...6 that the writer never heard of, then its session ended by the server.
        try psql("INSERT INTO journal(pos, kind, received_at, topic, body) SELECT g, 1, 0, ''::bytea, ''::bytea FROM generate_series(4, 6) g")
        try psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")

        // As the pipeline does: a batch that failed is tried again (its producers are told busy).
        var stored: [JournalEntry]?
        for _ in 0..<5 where stored == nil {
            stored = try? journal.append([event("b-1"), event("b-2")], publishedThrough: 0)
        }
        #expect(stored?.map(\.position) == [7, 8])
        var read: [Int64: String] = [:]
        try journal.forEachEntry(after: 0) { entry in read[entry.position] = entry.key?.id ?? "" }
        #expect(read == [1: "a-1", 2: "a-2", 3: "a-3", 4: "", 5: "", 6: "", 7: "b-1", 8: "b-2"])
    }

    /// A batch the file refuses is not recorded, says why, and leaves the next batch to be
    /// recorded where it would have been.
    @Test func aRefusedBatchIsNotRecordedAndTheNextOneIs() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/journal.sqlite"
        let journal = try SQLiteJournal(path: path)
        defer { journal.close() }
        let written = try Self.entries()
        _ = try journal.append(written, publishedThrough: 0)

        // Another connection, as another process would: a trigger refuses dead letters.
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON journal WHEN NEW.kind = 2 BEGIN SELECT RAISE(ABORT, 'dead letters refused'); END")
        }
        #expect {
            _ = try journal.append(written, publishedThrough: 0)
        } throws: { error in
            "\(error)".contains("dead letters refused")
        }
        // Nothing of it: the events before the refused entry went with it.
        #expect(try other.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM journal") } == written.count)
        let ticks = [JournalEntry.tick(at: Self.at), .tick(at: Self.at)]
        #expect(try journal.append(ticks, publishedThrough: 0).map(\.position) == [6, 7])

        try other.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        let stored = try journal.append(written, publishedThrough: 0)
        #expect(stored.map(\.position) == Array(8...12))
        var read: [JournalEntry] = []
        try journal.forEachEntry(after: 7) { read.append($0) }
        #expect(read == written.enumerated().map { Self.asStored($1, at: Int64(8 + $0)) })
    }
}
