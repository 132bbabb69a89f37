import Foundation
import Synchronization

/// A value set once, and who waits for it: each waiter resumes with it when it is set (at once
/// if it was), or with nil when its task is cancelled first.
final class OneShot<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiters: [UUID: CheckedContinuation<Value?, Never>])>((nil, [:]))

    init() {}

    /// Sets the value, unless it was set; wakes every waiter.
    func set(_ value: Value) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value?, Never>] in
            guard s.value == nil else { return [] }
            s.value = value
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// How many wait now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// The value, once set; nil if the task was cancelled before.
    func wait() async -> Value? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Value?, Never>) in
                let now: Value?? = state.withLock { s in
                    if let value = s.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[id] = waiter
                    return .none
                }
                if let now { waiter.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}
