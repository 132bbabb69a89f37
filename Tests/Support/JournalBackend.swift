import Foundation

/// The journal stores the storage-dependent tests run on: a SQLite file always, and
/// PostgreSQL when `PLANWATCH_POSTGRES_URL` names a server (`.ci/test` starts one, from
/// Debian's postgresql, and sets it).
public enum JournalBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    /// The server `.ci/test` started, e.g. `postgres://postgres@127.0.0.1:55432/postgres`.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["PLANWATCH_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The stores this run can use.
    public static var available: [JournalBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    public var description: String { rawValue }

    /// A new, empty journal: a file in `directory`, or a new database on the server.
    public func makeJournal(in directory: TemporaryDirectory) throws -> String {
        switch self {
        case .sqlite:
            return directory.path + "/journal.sqlite"
        case .postgres:
            guard let server = Self.postgresURL, var parts = URLComponents(string: server) else {
                throw TestFailure("PLANWATCH_POSTGRES_URL is not set: run the suite with bash .ci/test")
            }
            let name = "planwatch_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let created = try run("/usr/bin/psql", [server, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"])
            guard created.status == 0 else { throw TestFailure("could not create database \(name): \(created.stderr)") }
            parts.path = "/" + name
            return parts.string!
        }
    }
}
