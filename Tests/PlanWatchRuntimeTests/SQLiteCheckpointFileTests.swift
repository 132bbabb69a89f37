import Foundation
import GRDB
import HandlerKit
import PlanWatchModel
@testable import PlanWatchRuntime
import PlanWatchTestSupport
import Testing

/// With SQLite, checkpoints are written to a file of their own beside the journal, so that the
/// seconds a large checkpoint takes to write never hold up the journal's appends.
@Suite struct SQLiteCheckpointFileTests {
    static let tables = ["checkpoint", "checkpoint_subject", "retained_checkpoint", "retained_subject"]

    func ticks(_ n: Int) -> [JournalEntry] { (0..<n).map { _ in .tick(at: Timestamp(epochMilliseconds: 1_773_200_000_000)) } }

    func checkpoint(at position: Int64) -> JournalCheckpoint {
        JournalCheckpoint(
            position: position, seq: 7, watermark: 9, states: ["H": Data(#"{"rooms":"subjects in rows"}"#.utf8)],
            subjects: ["H": HandlerSubjects(full: true, rows: (1...3).map { SubjectRow(path: "rooms", key: "r\($0)", value: Data("\($0)".utf8)) })])
    }

    func rowCount(_ file: String, _ table: String) throws -> Int {
        try DatabaseQueue(path: file).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    func removeFile(_ file: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
    }

    @Test func appendsGoOnWhileTheCheckpointsFileIsBeingWritten() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/journal.sqlite"
        let journal = try SQLiteJournal(path: path)
        defer { journal.close() }
        _ = try journal.append(ticks(3), publishedThrough: 0)
        try journal.saveCheckpoint(checkpoint(at: 3))
        #expect(try rowCount(SQLiteJournal.checkpointsPath(path), "checkpoint_subject") == 3)
        #expect(try rowCount(path, "checkpoint_subject") == 0)

        // Another writer holds the checkpoints' file, as a checkpoint being written does.
        let writer = try DatabaseQueue(path: SQLiteJournal.checkpointsPath(path))
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            let started = Date()
            let stored = try journal.append(ticks(2), publishedThrough: 3)
            #expect(stored.map(\.position) == [4, 5])
            // SQLite's busy timeout is 10 s: an append that waited for the lock would take that long.
            #expect(Date().timeIntervalSince(started) < 5)
        }
        #expect(try journal.loadCheckpoint().position == 3)
    }

    /// A journal as versions before this one wrote it: its checkpoints (live at 4, candidate at
    /// 2) in its own file. Built with this version, then the checkpoints copied back.
    func oldLayoutJournal(in dir: TemporaryDirectory) throws -> String {
        let path = dir.path + "/journal.sqlite"
        let journal = try SQLiteJournal(path: path)
        _ = try journal.append(ticks(5), publishedThrough: 0)
        try journal.saveCheckpoint(checkpoint(at: 4))
        try journal.saveCandidate(checkpoint(at: 2), createdAt: 1)
        journal.close()
        let checkpoints = SQLiteJournal.checkpointsPath(path)
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS cp", arguments: [checkpoints])
            for table in Self.tables { try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM cp.\(table)") }
            try db.execute(sql: "INSERT OR REPLACE INTO main.meta SELECT * FROM cp.meta")
            try db.execute(sql: "DETACH DATABASE cp")
        }
        removeFile(checkpoints)
        return path
    }

    @Test func aReaderReadsAnOldLayoutJournalsCheckpointsWhereTheyAreAndWritesNothing() throws {
        let dir = TemporaryDirectory()
        let path = try oldLayoutJournal(in: dir)
        let reader = try JournalStore.open(path, role: .reader)
        #expect(try reader.loadCheckpoint().position == 4)
        #expect(try reader.retained(.candidate)?.position == 2)
        reader.close()
        #expect(!FileManager.default.fileExists(atPath: SQLiteJournal.checkpointsPath(path)))
        #expect(try rowCount(path, "checkpoint_subject") == 3)
    }

    @Test func checkpointsInBothFilesThatDifferAreRefusedNamingBoth() throws {
        let dir = TemporaryDirectory()
        let path = try oldLayoutJournal(in: dir)
        // A newer daemon moved them; then an older one wrote a checkpoint into the journal's file.
        try SQLiteJournal(path: path).close()
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO checkpoint(handler, state) VALUES ('H', x'7B7D')")
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, 6)", arguments: [JournalSpec.Meta.checkpointPosition])
        }
        #expect {
            try SQLiteJournal(path: path)
        } throws: { error in
            "\(error)".contains("differ") && "\(error)".contains(path + " and " + SQLiteJournal.checkpointsPath(path))
        }
        // Nothing was deleted: the journal's checkpoint is still there to be chosen.
        #expect(try rowCount(path, "checkpoint") == 1)
    }

    @Test func aJournalWithItsCheckpointsInsideIsMovedToTheNewLayoutOnce() throws {
        let dir = TemporaryDirectory()
        let path = try oldLayoutJournal(in: dir)
        let checkpoints = SQLiteJournal.checkpointsPath(path)

        for _ in 1...2 {  // the second open finds nothing left to move
            let journal = try SQLiteJournal(path: path)
            let live = try journal.loadCheckpoint()
            #expect(live.position == 4 && live.seq == 7 && live.watermark == 9)
            #expect(live.states == checkpoint(at: 4).states)
            #expect(live.subjects["H"]?.rows.map(\.key).sorted() == ["r1", "r2", "r3"])
            #expect(try journal.retained(.candidate)?.position == 2)
            journal.close()
            for table in Self.tables { #expect(try rowCount(path, table) == 0, "\(table) left in the journal's file") }
            #expect(try rowCount(checkpoints, "checkpoint_subject") == 3 && rowCount(checkpoints, "retained_subject") == 3)
        }
    }

    @Test func aCompactedJournalWithoutItsCheckpointsIsRefusedNamingTheFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/journal.sqlite"
        do {
            let journal = try SQLiteJournal(path: path)
            _ = try journal.append(ticks(6), publishedThrough: 0)
            try journal.saveCandidate(checkpoint(at: 4), createdAt: 1)
            try journal.saveCheckpoint(checkpoint(at: 5))
            #expect(try journal.compactToCandidate() == 4)
            journal.close()
        }
        removeFile(SQLiteJournal.checkpointsPath(path))
        #expect {
            try SQLiteJournal(path: path)
        } throws: { error in
            "\(error)".contains("starts at entry 5") && "\(error)".contains(SQLiteJournal.checkpointsPath(path))
        }
    }
}
