import Foundation

/// Read-only questions to a journal, for operators and tests (safe while the daemon runs).
public enum JournalInspection {
    /// How many times each `(source, id)` is recorded as an accepted event, keyed `source/id`.
    public static func eventCounts(journalPath: String) throws -> [String: Int] {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        var counts: [String: Int] = [:]
        try journal.forEachEventKey { _, key in counts["\(key.source)/\(key.id)", default: 0] += 1 }
        return counts
    }
}

extension JournalInspection {
    /// Entries in the journal now (after compaction).
    public static func entryCount(journalPath: String) throws -> Int {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        return try journal.entryCount
    }
}

extension JournalInspection {
    /// The journal position the stored live checkpoint is at (0: none yet). A checkpoint is
    /// stored before its `checkpoint saved` line is logged.
    public static func checkpointPosition(journalPath: String) throws -> Int64 {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        return try journal.loadCheckpoint().position
    }

    /// The live checkpoint's subjects (``SubjectMap`` rows), keyed `handler/path/key`, each
    /// with its stored value as JSON text: what a restart reads back besides the states.
    public static func checkpointSubjects(journalPath: String) throws -> [String: String] {
        let journal = try JournalStore.open(journalPath, role: .reader)
        defer { journal.close() }
        var subjects: [String: String] = [:]
        for (handler, stored) in try journal.loadCheckpoint().subjects {
            for row in stored.rows { subjects["\(handler)/\(row.path)/\(row.key)"] = row.value.map { String(decoding: $0, as: UTF8.self) } }
        }
        return subjects
    }
}
