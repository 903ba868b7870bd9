-- Argo CD health of an ecs-operator NotificationPolicy, from its kstatus conditions.
-- A status for an older generation is Progressing; Stalled (a bad selector or Secret) and
-- Degraded (a receiver failing, retried with backoff) are Degraded; Ready=True is Healthy;
-- anything else (deliveries pending) is Progressing with the operator's message.
local hs = {}
local function condition(type)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end
local function current(c)
  return c ~= nil and c.status == "True"
    and (c.observedGeneration == nil or c.observedGeneration == obj.metadata.generation)
end

local generation = obj.metadata.generation
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the NotificationPolicy"
  return hs
end
if generation ~= nil and obj.status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
for _, type in ipairs({"Stalled", "Degraded"}) do
  local c = condition(type)
  if current(c) then
    hs.status = "Degraded"
    hs.message = c.message or c.reason or type
    return hs
  end
end
local ready = condition("Ready")
if current(ready) then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
hs.status = "Progressing"
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" and reconciling.message ~= nil then
  hs.message = reconciling.message
else
  hs.message = "Waiting for the notifications to be delivered"
end
return hs
