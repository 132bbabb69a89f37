import HandlerKit

/// The host's alert desk: every alert a handler publishes passes through it. It gives each
/// alert an owner (school, district bureau, city bureau, by its rule), takes operators'
/// acknowledgements (`operator.ack` events), and escalates an alert one level up when its
/// owner has not acknowledged it within the rule's limit — in hours or working days on the
/// holiday calendar — up to the city bureau.
///
/// Deterministic like a handler: it sees journal entries in order, with the journal's time,
/// and its state is checkpointed, so a replay gives the same outputs and a restart loses
/// no firing alert, acknowledgement or escalation timer.
struct AlertDesk {
    struct Tracked: Codable, Sendable, Equatable {
        /// The alert as last published, with the desk's fields.
        var alert: Alert
        var ownerLevel: OwnerLevel
        /// When the owner's time to acknowledge ends (ms), while unacknowledged.
        var dueAt: Int64?
    }

    struct State: Codable, Sendable, Equatable {
        var tracked = SubjectMap<Tracked>()
        /// When each alert's time to acknowledge ends, by time: every `dueAt` of `tracked`, and
        /// the limits since replaced (a level risen, an acknowledgement), which ``escalations``
        /// skips. Not checkpointed — it is rebuilt from `tracked` — and not compared: what it
        /// holds beyond the alerts' own `dueAt` changes nothing. Checkpointed, it was a row per
        /// open alert more (a tenth of the rows in the alert workload, BENCHMARKS.md).
        var deadlines = DeadlineHeap()

        init() {}

        private enum CodingKeys: String, CodingKey {
            case tracked
            /// Where checkpoints before 0.19 kept the deadlines.
            case deadlines
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            tracked = try container.decode(SubjectMap<Tracked>.self, forKey: .tracked)
            deadlines = DeadlineHeap(tracked.compactMap { key, t in t.dueAt.map { DeadlineHeap.Entry(due: $0, key: key) } })
            if container.contains(.deadlines) {
                // Its rows are not read: the next checkpoint writes the desk whole, without them.
                (decoder.userInfo[.planwatchSubjects] as? SubjectSource)?.rewriteAll()
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tracked, forKey: .tracked)
        }

        static func == (a: State, b: State) -> Bool { a.tracked == b.tracked }
    }

    var state = State()
    let policy: AlertPolicy

    init(policy: AlertPolicy) { self.policy = policy }

    /// An alert from a handler, decorated with its owner and acknowledgement, and what changed.
    mutating func route(_ alert: Alert, context: HandlerContext) -> (Alert, AlertChange.Kind) {
        var out = alert
        guard alert.status == .firing else {
            let last = state.tracked.removeValue(forKey: alert.fingerprint)
            decorate(&out, from: last?.alert)
            return (out, .resolved)
        }
        guard var t = state.tracked[alert.fingerprint] else {
            let rule = policy.rule(alert.rule)
            out.owner = AlertPolicy.owner(rule.owner, of: alert)
            var t = Tracked(alert: out, ownerLevel: rule.owner)
            arm(&t, from: context.now, context: context)
            state.tracked[alert.fingerprint] = t
            return (out, .fired)
        }
        decorate(&out, from: t.alert)
        if let before = alert.previousLevel, alert.level > before {
            // More serious now: it needs a new acknowledgement, and the clock starts again.
            out.ackedBy = nil
            out.ackedAt = nil
            out.ackNote = nil
            arm(&t, from: context.now, context: context)
        }
        t.alert = out
        state.tracked[alert.fingerprint] = t
        return (out, .levelChanged)
    }

    /// An operator's acknowledgement; the alert to publish again, or nil when it is not firing.
    mutating func acknowledge(_ ack: OperatorAck, at: Timestamp, cause: String) -> Alert? {
        guard var t = state.tracked[ack.fingerprint] else { return nil }
        t.alert.ackedBy = ack.by
        t.alert.ackedAt = at
        t.alert.ackNote = ack.note
        t.alert.updatedAt = at
        t.alert.causes = [cause]
        t.dueAt = nil
        state.tracked[ack.fingerprint] = t
        return t.alert
    }

    /// Alerts whose owner's time ran out by `context.now`, each escalated one level up.
    mutating func escalations(context: HandlerContext) -> [Alert] {
        var out: [Alert] = []
        for entry in state.deadlines.popDue(now: context.now.epochMilliseconds) {
            guard var t = state.tracked[entry.key], t.dueAt == entry.due, t.alert.ackedBy == nil,
                let next = t.ownerLevel.next
            else { continue }
            let due = Timestamp(epochMilliseconds: entry.due)
            let owner = AlertPolicy.owner(next, of: t.alert)
            t.ownerLevel = next
            t.alert.owner = owner
            t.alert.escalatedTo = owner
            t.alert.updatedAt = due
            t.alert.causes = []
            arm(&t, from: due, context: context)
            state.tracked[entry.key] = t
            out.append(t.alert)
        }
        return out
    }

    private mutating func arm(_ t: inout Tracked, from start: Timestamp, context: HandlerContext) {
        guard t.ownerLevel.next != nil else {
            t.dueAt = nil
            return
        }
        let due = context.calendar.end(of: policy.rule(t.alert.rule).ackWithin, from: start)
        t.dueAt = due.epochMilliseconds
        state.deadlines.insert(DeadlineHeap.Entry(due: due.epochMilliseconds, key: t.alert.fingerprint))
    }

    private func decorate(_ alert: inout Alert, from last: Alert?) {
        alert.owner = last?.owner
        alert.ackedBy = last?.ackedBy
        alert.ackedAt = last?.ackedAt
        alert.ackNote = last?.ackNote
        alert.escalatedTo = last?.escalatedTo
    }
}
