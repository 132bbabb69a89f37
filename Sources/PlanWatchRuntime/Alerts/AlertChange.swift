import Foundation
import HandlerKit

/// One change of an alert, as the audit trail keeps it: fired, level changed, acknowledged,
/// escalated, resolved. Kept for good in the journal's store (compaction leaves it), listed
/// by `planwatch history FINGERPRINT` and `GET /api/alerts/history?fingerprint=`.
public struct AlertChange: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case fired, levelChanged, acknowledged, escalated, resolved
    }

    /// The `seq` of the alert message published with this change.
    public var seq: Int64
    public var fingerprint: String
    public var change: Kind
    /// When it changed (the handler's time for fired, level and resolution; the operator's
    /// for an acknowledgement; the deadline for an escalation).
    public var at: Timestamp
    public var level: Alert.Level
    public var previousLevel: Alert.Level?
    public var owner: String?
    /// The operator, for an acknowledgement.
    public var by: String?
    public var note: String?
    public var summary: String

    /// The change as a JSON object.
    public var json: JSONValue {
        .object([
            "seq": .integer(seq), "fingerprint": .string(fingerprint), "change": .string(change.rawValue),
            "at": .string(at.description), "level": .string(level.rawValue), "previousLevel": .optional(previousLevel?.rawValue),
            "owner": .optional(owner), "by": .optional(by), "note": .optional(note), "summary": .string(summary),
        ])
    }

    /// Reads a change back from ``json``.
    init?(json bytes: [UInt8]) {
        guard case .object(let o)? = try? JSONParser.parse(bytes),
            case .integer(let seq)? = o["seq"], case .string(let fingerprint)? = o["fingerprint"],
            case .string(let kind)? = o["change"], let change = Kind(rawValue: kind),
            case .string(let at)? = o["at"], let time = Timestamp(rfc3339: at),
            case .string(let levelText)? = o["level"], let level = Alert.Level(rawValue: levelText),
            case .string(let summary)? = o["summary"]
        else { return nil }
        func text(_ key: String) -> String? { if case .string(let s)? = o[key] { s } else { nil } }
        self.init(
            seq: seq, fingerprint: fingerprint, change: change, at: time, level: level,
            previousLevel: text("previousLevel").flatMap(Alert.Level.init(rawValue:)), owner: text("owner"), by: text("by"),
            note: text("note"), summary: summary)
    }

    init(
        seq: Int64, fingerprint: String, change: Kind, at: Timestamp, level: Alert.Level, previousLevel: Alert.Level?, owner: String?,
        by: String?, note: String?, summary: String
    ) {
        self.seq = seq
        self.fingerprint = fingerprint
        self.change = change
        self.at = at
        self.level = level
        self.previousLevel = previousLevel
        self.owner = owner
        self.by = by
        self.note = note
        self.summary = summary
    }
}
