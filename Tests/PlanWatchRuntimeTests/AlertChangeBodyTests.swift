import Foundation
import HandlerKit
import PlanWatchModel
import Testing

@testable import PlanWatchRuntime

/// An alert change is written member by member (``JSONWriter/Object``) into the audit trail,
/// and read back from it by `history` (snapshot ROUTER, HTTP, `planwatch history`): its bytes
/// are those its encoding as a ``JSONValue`` gave (kept here as the reference), and they
/// read back as the change.
struct AlertChangeBodyTests {
    static let changes: [AlertChange] = [
        AlertChange(
            seq: 1, fingerprint: "safety.incident/INC-1", change: .fired, at: Timestamp(epochMilliseconds: 1_774_000_000_000),
            level: .orange, previousLevel: nil, owner: nil, by: nil, note: nil, summary: ""),
        AlertChange(
            seq: Int64.max, fingerprint: "f \" \\ \n 校", change: .acknowledged, at: Timestamp(epochMilliseconds: 1_774_000_000_123),
            level: .red, previousLevel: .yellow, owner: "school:370303-0042", by: "operator \u{1}", note: "已处理\t", summary: "食物中毒 \u{2028}"),
    ]

    @Test func aChangesBodyIsItsEncodingAsBeforeAndReadsBackAsTheChange() throws {
        for change in Self.changes {
            let body = change.body
            #expect(String(decoding: body, as: UTF8.self) == JSONWriter.string(Self.reference(change)))
            #expect(try JSONDecoder().decode(AlertChange.self, from: Data(body)) == change)
        }
    }

    /// The encoding as it was, built as a value.
    static func reference(_ c: AlertChange) -> JSONValue {
        .object([
            "seq": .integer(c.seq), "fingerprint": .string(c.fingerprint), "change": .string(c.change.rawValue),
            "at": .string(c.at.description), "level": .string(c.level.rawValue), "previousLevel": .optional(c.previousLevel?.rawValue),
            "owner": .optional(c.owner), "by": .optional(c.by), "note": .optional(c.note), "summary": .string(c.summary),
        ])
    }
}
