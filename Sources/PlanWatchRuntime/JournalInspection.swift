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
