# The PICO simulator, building each ordered unit in 20 s; its state in /data.
FROM python:3.11.10-slim-bookworm
COPY requirements.txt /tmp/pico_sim/
RUN pip install --no-cache-dir -r /tmp/pico_sim/requirements.txt \
    && useradd --system pico && mkdir /data && chown pico /data
COPY pico_sim/ /app/pico_sim/
WORKDIR /app
USER pico
EXPOSE 8070
CMD ["python", "-m", "pico_sim", "--host", "0.0.0.0", "--port", "8070", \
     "--db", "/data/state.sqlite", "--auto-build", "20", \
     "--token", "pico-demo-token", "--public-url", "http://localhost:8070"]
