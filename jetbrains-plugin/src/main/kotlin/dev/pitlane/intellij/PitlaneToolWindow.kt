package dev.pitlane.intellij

import com.intellij.icons.AllIcons
import com.intellij.openapi.Disposable
import com.intellij.openapi.actionSystem.ActionManager
import com.intellij.openapi.actionSystem.ActionPlaces
import com.intellij.openapi.actionSystem.DataProvider
import com.intellij.openapi.actionSystem.DefaultActionGroup
import com.intellij.openapi.actionSystem.Separator
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.project.DumbAware
import com.intellij.openapi.project.Project
import com.intellij.openapi.wm.ToolWindow
import com.intellij.openapi.wm.ToolWindowFactory
import com.intellij.ui.AnimatedIcon
import com.intellij.ui.ColoredListCellRenderer
import com.intellij.ui.ColoredTreeCellRenderer
import com.intellij.ui.DoubleClickListener
import com.intellij.ui.PopupHandler
import com.intellij.ui.ScrollPaneFactory
import com.intellij.ui.SimpleColoredComponent
import com.intellij.ui.SimpleTextAttributes
import com.intellij.ui.TreeSpeedSearch
import com.intellij.ui.content.ContentFactory
import com.intellij.ui.treeStructure.Tree
import dev.pitlane.core.Actions
import dev.pitlane.core.Port
import dev.pitlane.core.PortText
import dev.pitlane.core.Presentation
import dev.pitlane.core.SessionStatus
import dev.pitlane.core.Workspace
import dev.pitlane.core.WorkspaceMenu
import dev.pitlane.core.WorkspaceState
import java.awt.BorderLayout
import java.awt.event.MouseEvent
import java.time.Instant
import javax.swing.JList
import javax.swing.JPanel
import javax.swing.JTree
import javax.swing.tree.DefaultMutableTreeNode
import javax.swing.tree.DefaultTreeModel
import javax.swing.tree.TreePath
import javax.swing.tree.TreeSelectionModel

class PitlaneToolWindowFactory : ToolWindowFactory, DumbAware {
    override fun createToolWindowContent(project: Project, toolWindow: ToolWindow) {
        val panel = WorkspacesPanel(project)
        val content = ContentFactory.getInstance().createContent(panel, "Workspaces", false)
        content.isCloseable = false
        content.setDisposer(panel)
        toolWindow.contentManager.addContent(content)
    }
}

/** A port row under its workspace. */
data class PortRow(val workspace: String, val port: Port)

/**
 * The workspaces, each with its ports below it: a view of the session's
 * model, redrawn whenever the model changes (list answers,
 * workspace/didChange and workspace/portsChanged pushes, call results).
 */
class WorkspacesPanel(private val project: Project) : JPanel(BorderLayout()), DataProvider, Disposable {
    private val session = PitlaneService.get().session
    private val root = DefaultMutableTreeNode()
    private val treeModel = DefaultTreeModel(root)
    private val tree = Tree(treeModel)
    private val subscriptions = ArrayList<AutoCloseable>()
    // Workspaces whose ports were asked for while they listed "ports" (asking starts the bridge's watch).
    private val portsAsked = HashSet<String>()

    init {
        tree.isRootVisible = false
        tree.showsRootHandles = true
        tree.selectionModel.selectionMode = TreeSelectionModel.SINGLE_TREE_SELECTION
        tree.cellRenderer = TreeRenderer()
        tree.emptyText.text = "No workspaces"
        tree.emptyText.appendSecondaryText("Create Workspace", SimpleTextAttributes.LINK_PLAIN_ATTRIBUTES) {
            ActionManager.getInstance().getAction("Pitlane.CreateWorkspace")?.let { action ->
                ActionManager.getInstance().tryToExecute(action, null, tree, ActionPlaces.TOOLWINDOW_CONTENT, true)
            }
        }
        TreeSpeedSearch.installOn(tree, false) { path ->
            when (val v = (path.lastPathComponent as? DefaultMutableTreeNode)?.userObject) {
                is Workspace -> v.name
                is PortRow -> PortText.label(v.port)
                else -> ""
            }
        }
        PopupHandler.installPopupMenu(tree, "Pitlane.WorkspaceActions", "PitlaneToolWindowPopup")
        object : DoubleClickListener() {
            override fun onDoubleClick(event: MouseEvent): Boolean {
                val ws = selectedWorkspace() ?: return false
                val port = selectedPort()
                if (port != null) {
                    Dispatch.port(project, ws, port, PortText.actions(port).first())
                    return true
                }
                val action = WorkspaceMenu.defaultAction(ws) ?: return false
                Dispatch.perform(project, ws, action)
                return true
            }
        }.installOn(tree)

        val am = ActionManager.getInstance()
        val group = DefaultActionGroup().apply {
            am.getAction("Pitlane.CreateWorkspace")?.let { add(it) }
            am.getAction("Pitlane.GoToWorkspace")?.let { add(it) }
            am.getAction("Pitlane.Refresh")?.let { add(it) }
            add(Separator.getInstance())
            am.getAction("Pitlane.WorkspaceActions")?.let { add(it) }
        }
        val toolbar = am.createActionToolbar("PitlaneToolWindow", group, true)
        toolbar.targetComponent = this
        add(toolbar.component, BorderLayout.NORTH)
        add(ScrollPaneFactory.createScrollPane(tree), BorderLayout.CENTER)

        subscriptions += session.model.addListener { redraw() }
        subscriptions += session.addStatusListener { s ->
            // A new bridge knows nothing of the ports asked for before.
            if (s is SessionStatus.Starting) ApplicationManager.getApplication().invokeLater { portsAsked.clear() }
            redraw()
        }
        redraw()
        ApplicationManager.getApplication().executeOnPooledThread { session.refresh() }
    }

    private fun selectedNode() = tree.selectionPath?.lastPathComponent as? DefaultMutableTreeNode

    private fun selectedPort(): Port? = (selectedNode()?.userObject as? PortRow)?.port

    private fun selectedWorkspace(): Workspace? = when (val v = selectedNode()?.userObject) {
        is Workspace -> v
        is PortRow -> session.model[v.workspace]
        else -> null
    }

    /** Rebuilds the tree from the model on the UI thread, keeping the selection and the expanded workspaces. */
    private fun redraw() {
        ApplicationManager.getApplication().invokeLater({
            val selected = keyOf(selectedNode()?.userObject)
            val expanded = (0 until root.childCount).mapNotNull { i ->
                val n = root.getChildAt(i) as DefaultMutableTreeNode
                (n.userObject as? Workspace)?.name?.takeIf { tree.isExpanded(TreePath(n.path)) }
            }.toSet()
            root.removeAllChildren()
            var select: TreePath? = null
            for (ws in session.model.snapshot()) {
                val node = DefaultMutableTreeNode(ws)
                root.add(node)
                // Ports are listed for workspaces whose actions include "ports"; the bridge keeps them current.
                if (ws.allows(Actions.PORTS)) {
                    if (portsAsked.add(ws.name)) session.ports(ws.name)
                } else {
                    portsAsked.remove(ws.name)
                }
                for (p in session.model.ports(ws.name)) node.add(DefaultMutableTreeNode(PortRow(ws.name, p), false))
            }
            treeModel.reload()
            for (i in 0 until root.childCount) {
                val n = root.getChildAt(i) as DefaultMutableTreeNode
                val path = TreePath(n.path)
                if ((n.userObject as Workspace).name in expanded || expanded.isEmpty()) tree.expandPath(path)
                if (keyOf(n.userObject) == selected) select = path
                for (j in 0 until n.childCount) {
                    val c = n.getChildAt(j) as DefaultMutableTreeNode
                    if (keyOf(c.userObject) == selected) select = TreePath(c.path)
                }
            }
            select?.let { tree.selectionPath = it }
            tree.emptyText.text = when (val s = session.status) {
                is SessionStatus.Failed -> s.message
                SessionStatus.Starting -> "Starting Pitlane…"
                else -> "No workspaces"
            }
        }, project.disposed)
    }

    private fun keyOf(v: Any?): String? = when (v) {
        is Workspace -> v.name
        is PortRow -> "${v.workspace}:${v.port.port}"
        else -> null
    }

    override fun getData(dataId: String): Any? = when {
        PitlaneKeys.WORKSPACE.`is`(dataId) -> selectedWorkspace()
        PitlaneKeys.PORT.`is`(dataId) -> selectedPort()
        else -> null
    }

    override fun dispose() {
        subscriptions.forEach { runCatching { it.close() } }
        subscriptions.clear()
    }

    private class TreeRenderer : ColoredTreeCellRenderer() {
        override fun customizeCellRenderer(tree: JTree, value: Any?, selected: Boolean, expanded: Boolean, leaf: Boolean, row: Int, hasFocus: Boolean) {
            when (val v = (value as? DefaultMutableTreeNode)?.userObject) {
                is Workspace -> WorkspaceRenderer.render(this, v)
                is PortRow -> {
                    icon = if (v.port.forwarded != null) AllIcons.Nodes.Plugin else AllIcons.Nodes.PluginLogo
                    append(PortText.label(v.port))
                    toolTipText = v.port.forwarded?.url
                }
            }
        }
    }
}

/** How a workspace row looks, in the tool window and in Go to Workspace. */
object WorkspaceRenderer {
    fun render(c: SimpleColoredComponent, ws: Workspace) {
        c.icon = when (ws.stateValue) {
            WorkspaceState.RUNNING -> AllIcons.Actions.Execute
            WorkspaceState.STOPPED -> AllIcons.Actions.Suspend
            WorkspaceState.ERROR -> AllIcons.General.Error
            WorkspaceState.INTERRUPTED -> AllIcons.General.Warning
            WorkspaceState.CREATING, WorkspaceState.DELETING -> AnimatedIcon.Default.INSTANCE
            WorkspaceState.UNKNOWN -> AllIcons.General.Information
        }
        c.append(ws.name, SimpleTextAttributes.REGULAR_BOLD_ATTRIBUTES)
        c.append("  " + Presentation.stateLabel(ws.stateValue), SimpleTextAttributes.GRAYED_ATTRIBUTES)
        c.append("  " + Presentation.sourceLabel(ws.source))
        c.append("  last used " + Presentation.ago(ws.lastUsedAtInstant, Instant.now()), SimpleTextAttributes.GRAYED_SMALL_ATTRIBUTES)
        c.toolTipText = Presentation.details(ws)
    }

    fun list() = object : ColoredListCellRenderer<Workspace>() {
        override fun customizeCellRenderer(list: JList<out Workspace>, value: Workspace, index: Int, selected: Boolean, hasFocus: Boolean) =
            render(this, value)
    }
}
