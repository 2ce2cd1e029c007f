package dev.pitlane.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Test

class WorkspaceListModelTest {
    private fun ws(name: String, state: String = "running") = Workspace(name = name, state = state, sshHost = "$name.pitlane")

    private fun names(m: WorkspaceListModel) = m.snapshot().map { "${it.name}:${it.state}" }

    @Test
    fun `reset sorts by name and change notifications update, add and remove`() {
        val m = WorkspaceListModel()
        val events = mutableListOf<ModelEvent>()
        m.addListener { events += it }
        m.reset(listOf(ws("b"), ws("a", "stopped")))
        assertEquals(listOf("a:stopped", "b:running"), names(m))

        assertEquals(ModelEvent.Updated(ws("a")), m.apply(DidChangeParams("a", ChangeKinds.STARTED, workspace = ws("a"))))
        assertEquals(ModelEvent.Added(ws("c", "creating")), m.apply(DidChangeParams("c", ChangeKinds.CHANGED, workspace = ws("c", "creating"))))
        assertEquals(ModelEvent.Removed("b"), m.apply(DidChangeParams("b", ChangeKinds.DELETED, removed = true)))
        assertEquals(listOf("a:running", "c:creating"), names(m))

        // Nothing to do: the same workspace again, removing an unknown one, a change without a workspace.
        assertNull(m.apply(DidChangeParams("a", ChangeKinds.CHANGED, workspace = ws("a"))))
        assertNull(m.apply(DidChangeParams("zz", ChangeKinds.DELETED, removed = true)))
        assertNull(m.apply(DidChangeParams("a", ChangeKinds.CHANGED)))
        assertEquals(
            listOf(ModelEvent.Reset, ModelEvent.Updated(ws("a")), ModelEvent.Added(ws("c", "creating")), ModelEvent.Removed("b")),
            events,
        )
    }

    @Test
    fun `a failed create that leaves nothing behind removes the row`() {
        val m = WorkspaceListModel()
        m.apply(DidChangeParams("x", ChangeKinds.CHANGED, workspace = ws("x", "creating")))
        m.apply(DidChangeParams("x", ChangeKinds.CREATE_FAILED, removed = true))
        assertEquals(emptyList<String>(), names(m))
        m.apply(DidChangeParams("y", ChangeKinds.CREATE_FAILED, workspace = ws("y", "error")))
        assertEquals(listOf("y:error"), names(m))
    }

    @Test
    fun `changes seen while a list is on its way survive its answer`() {
        val m = WorkspaceListModel()
        m.reset(listOf(ws("a"), ws("b")))
        m.beginRefresh()
        // The list was computed before these two changes reached the client.
        m.apply(DidChangeParams("a", ChangeKinds.STOPPED, workspace = ws("a", "stopped")))
        m.apply(DidChangeParams("b", ChangeKinds.DELETED, removed = true))
        m.reset(listOf(ws("a"), ws("b")))
        assertEquals(listOf("a:stopped"), names(m))
        // Once the refresh is over, a later list is taken as it is.
        m.reset(listOf(ws("a"), ws("b")))
        assertEquals(listOf("a:running", "b:running"), names(m))
    }

    @Test
    fun `an aborted refresh stops recording`() {
        val m = WorkspaceListModel()
        m.beginRefresh()
        m.apply(DidChangeParams("a", ChangeKinds.CREATED, workspace = ws("a")))
        m.abortRefresh()
        m.reset(emptyList())
        assertEquals(emptyList<String>(), names(m))
    }

    @Test
    fun `ports are kept sorted per workspace, updated by one forward, and dropped with the workspace`() {
        val m = WorkspaceListModel()
        val events = ArrayList<ModelEvent>()
        m.addListener { events += it }
        m.put(Workspace(name = "api", state = "running"))
        m.setPorts("api", listOf(Port(9229, source = "detected"), Port(3000, source = "forwardPorts")))
        assertEquals(listOf(3000, 9229), m.ports("api").map { it.port })
        assertNull(m.setPorts("api", listOf(Port(3000, source = "forwardPorts"), Port(9229, source = "detected"))), "same ports: no event")
        val fwd = Port(3000, source = "forwardPorts", forwarded = Forwarded(3001, "http://127.0.0.1:3001/"))
        m.putPort("api", fwd)
        assertEquals(listOf(fwd, Port(9229, source = "detected")), m.ports("api"))
        assertEquals(ModelEvent.PortsChanged("api", m.ports("api")), events.last())
        m.apply(DidChangeParams(name = "api", kind = ChangeKinds.DELETED, removed = true))
        assertEquals(emptyList<Port>(), m.ports("api"))
    }

    @Test
    fun `results of calls are recorded`() {
        val m = WorkspaceListModel()
        assertEquals(ModelEvent.Added(ws("a")), m.put(ws("a")))
        assertEquals(ModelEvent.Updated(ws("a", "stopped")), m.put(ws("a", "stopped")))
        assertEquals(ModelEvent.Removed("a"), m.remove("a"))
        assertNull(m.remove("a"))
        assertEquals(0, m.size)
    }
}
