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
import com.intellij.ui.CollectionListModel
import com.intellij.ui.ColoredListCellRenderer
import com.intellij.ui.DoubleClickListener
import com.intellij.ui.PopupHandler
import com.intellij.ui.ScrollPaneFactory
import com.intellij.ui.SimpleTextAttributes
import com.intellij.ui.components.JBList
import com.intellij.ui.content.ContentFactory
import dev.pitlane.core.Presentation
import dev.pitlane.core.SessionStatus
import dev.pitlane.core.Workspace
import dev.pitlane.core.WorkspaceState
import java.awt.BorderLayout
import java.awt.event.MouseEvent
import java.time.Instant
import javax.swing.JList
import javax.swing.JPanel

class PitlaneToolWindowFactory : ToolWindowFactory, DumbAware {
    override fun createToolWindowContent(project: Project, toolWindow: ToolWindow) {
        val panel = WorkspacesPanel(project)
        val content = ContentFactory.getInstance().createContent(panel, "", false)
        content.setDisposer(panel)
        toolWindow.contentManager.addContent(content)
    }
}

/**
 * The workspace list: a view of the session's model, redrawn whenever the
 * model changes (list answers, workspace/didChange pushes, call results).
 */
class WorkspacesPanel(private val project: Project) : JPanel(BorderLayout()), DataProvider, Disposable {
    private val session = PitlaneService.get().session
    private val rows = CollectionListModel<Workspace>()
    private val list = JBList(rows)
    private val subscriptions = ArrayList<AutoCloseable>()

    init {
        list.cellRenderer = Renderer()
        list.emptyText.text = "No workspaces"
        list.emptyText.appendSecondaryText("Create Workspace", SimpleTextAttributes.LINK_PLAIN_ATTRIBUTES) {
            ActionManager.getInstance().getAction("Pitlane.CreateWorkspace")?.let { action ->
                ActionManager.getInstance().tryToExecute(action, null, list, ActionPlaces.TOOLWINDOW_CONTENT, true)
            }
        }
        PopupHandler.installPopupMenu(list, "Pitlane.WorkspaceActions", "PitlaneToolWindowPopup")
        object : DoubleClickListener() {
            override fun onDoubleClick(event: MouseEvent): Boolean {
                val action = ActionManager.getInstance().getAction("Pitlane.Open") ?: return false
                ActionManager.getInstance().tryToExecute(action, event, list, ActionPlaces.TOOLWINDOW_CONTENT, true)
                return true
            }
        }.installOn(list)

        val am = ActionManager.getInstance()
        val group = DefaultActionGroup().apply {
            am.getAction("Pitlane.CreateWorkspace")?.let { add(it) }
            am.getAction("Pitlane.Refresh")?.let { add(it) }
            add(Separator.getInstance())
            am.getAction("Pitlane.WorkspaceActions")?.let { add(it) }
        }
        val toolbar = am.createActionToolbar("PitlaneToolWindow", group, true)
        toolbar.targetComponent = this
        add(toolbar.component, BorderLayout.NORTH)
        add(ScrollPaneFactory.createScrollPane(list), BorderLayout.CENTER)

        subscriptions += session.model.addListener { redraw() }
        subscriptions += session.addStatusListener { redraw() }
        redraw()
        ApplicationManager.getApplication().executeOnPooledThread { session.refresh() }
    }

    /** Rebuilds the rows from the model on the UI thread, keeping the selection. */
    private fun redraw() {
        ApplicationManager.getApplication().invokeLater({
            val selected = list.selectedValue?.name
            rows.replaceAll(session.model.snapshot())
            val i = rows.items.indexOfFirst { it.name == selected }
            if (i >= 0) list.selectedIndex = i
            list.emptyText.text = when (val s = session.status) {
                is SessionStatus.Failed -> s.message
                SessionStatus.Starting -> "Starting Pitlane…"
                else -> "No workspaces"
            }
        }, project.disposed)
    }

    override fun getData(dataId: String): Any? =
        if (PitlaneKeys.WORKSPACE.`is`(dataId)) list.selectedValue else null

    override fun dispose() {
        subscriptions.forEach { runCatching { it.close() } }
        subscriptions.clear()
    }

    private class Renderer : ColoredListCellRenderer<Workspace>() {
        override fun customizeCellRenderer(list: JList<out Workspace>, value: Workspace, index: Int, selected: Boolean, hasFocus: Boolean) {
            icon = when (value.stateValue) {
                WorkspaceState.RUNNING -> AllIcons.Actions.Execute
                WorkspaceState.STOPPED -> AllIcons.Actions.Suspend
                WorkspaceState.ERROR -> AllIcons.General.Error
                WorkspaceState.CREATING, WorkspaceState.DELETING -> AnimatedIcon.Default.INSTANCE
                WorkspaceState.UNKNOWN -> AllIcons.General.Information
            }
            append(value.name, SimpleTextAttributes.REGULAR_BOLD_ATTRIBUTES)
            append("  " + Presentation.stateLabel(value.stateValue), SimpleTextAttributes.GRAYED_ATTRIBUTES)
            append("  " + Presentation.sourceLabel(value.source))
            append("  last used " + Presentation.ago(value.lastUsedAtInstant, Instant.now()), SimpleTextAttributes.GRAYED_SMALL_ATTRIBUTES)
            toolTipText = Presentation.details(value)
        }
    }
}
