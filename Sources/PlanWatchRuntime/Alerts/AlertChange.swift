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

    /// The change as a JSON object: the audit trail's row, a `history` reply. The pipeline
    /// writes one for every alert it publishes, member by member (``JSONWriter/Object``).
    public var body: [UInt8] {
        var o = JSONWriter.Object(reservingCapacity: 256)
        o.member("seq", seq)
        o.member("fingerprint", fingerprint)
        o.member("change", change.rawValue)
        o.member("at", at)
        o.member("level", level.rawValue)
        o.member("previousLevel", previousLevel?.rawValue)
        o.member("owner", owner)
        o.member("by", by)
        o.member("note", note)
        o.member("summary", summary)
        return o.bytes()
    }
}
